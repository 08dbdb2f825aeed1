package ai.polyv.cli;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.tokenizer.Tokenizer;
import ai.polyv.bench.tokenizer.TextCorpus;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code polyv bench tokenizer}: encodes the same corpus of ~2,000-character real-text documents with polyv's
 * {@link Tokenizer} and with HF tokenizers (Rust, through the {@code @anush008/tokenizers} napi binding driven by
 * {@code bench/hf-tokenizers/hf.js}), in one run on one machine, single-threaded and with all cores; checks that
 * both produce the same ids for every document; prints MB/s (10^6 UTF-8 bytes per second, median of the timed
 * repetitions) and the ratios.
 *
 * <p>Single-threaded: ours encodes the documents one after another on one thread; HF runs {@code encodeBatch}
 * with {@code RAYON_NUM_THREADS=1}. All cores: ours submits documents to a fixed pool of {@code --threads}
 * workers (a shared counter hands out documents); HF runs {@code encodeBatch} with {@code RAYON_NUM_THREADS} set
 * to the same count. Both sides time encoding only (tokenizer loading and the corpus are outside the timings)
 * and get one untimed warm-up pass (ours: {@code --warmup} passes, for the JIT).
 */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Tokenizer throughput vs HF tokenizers (Rust) on the same real-text corpus, 1 thread and all cores.")
public final class TokenizerBenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: ${DEFAULT-VALUE})",
            defaultValue = "../shared/tokenizer/qwen/tokenizer.json")
    Path tokenizerFile;

    @Option(names = "--corpus", paramLabel = "FILE",
            description = "a UTF-8 text file to use instead of the system license/copyright texts")
    Path corpusFile;

    @Option(names = "--max-mb", description = "corpus size cap in MB when read from the system (default: ${DEFAULT-VALUE})",
            defaultValue = "4")
    double maxMb;

    @Option(names = "--doc-chars", description = "characters per document (default: ${DEFAULT-VALUE})", defaultValue = "2000")
    int docChars;

    @Option(names = "--reps", description = "timed repetitions per measurement (default: ${DEFAULT-VALUE})", defaultValue = "5")
    int reps;

    @Option(names = "--warmup", description = "untimed passes of ours before timing, for the JIT (default: ${DEFAULT-VALUE})",
            defaultValue = "3")
    int warmup;

    @Option(names = "--threads", description = "threads for the all-cores runs (default: all available processors)")
    Integer threads;

    @Option(names = "--hf-dir", paramLabel = "DIR", description = "folder of hf.js and its package.json (default: ${DEFAULT-VALUE})",
            defaultValue = "bench/hf-tokenizers")
    Path hfDir;

    @Option(names = "--no-hf", description = "measure only polyv (no node / HF tokenizers)")
    boolean noHf;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON (atomically)")
    Path jsonOut;

    @Spec
    CommandSpec spec;

    /** One measurement: median seconds over the repetitions, with all of them. */
    record Timing(String who, int threads, double[] seconds) {
        double median() {
            double[] s = seconds.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        double mbPerSecond(long bytes) {
            return bytes / 1e6 / median();
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (reps < 1 || nThreads < 1 || docChars < 1) {
            throw new IllegalArgumentException("--reps, --threads and --doc-chars must be positive");
        }
        String problem = PathChecks.notARegularFile(tokenizerFile);
        if (problem != null) throw new IllegalArgumentException("tokenizer " + tokenizerFile + " " + problem + " (use --tokenizer FILE)");
        TextCorpus.Corpus corpus = corpusFile != null ? TextCorpus.file(corpusFile)
                : TextCorpus.systemText((long) (maxMb * 1e6));
        long bytes = corpus.utf8Bytes();
        if (bytes < 1_000_000) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "corpus from %s has only %d bytes; the benchmark needs >= 1 MB (use --corpus FILE)", corpus.source(), bytes));
        }
        List<String> docs = TextCorpus.documents(corpus.text(), docChars);
        String sha = sha256(corpus.text()).substring(0, 16);
        out.printf(Locale.ROOT, "corpus: %s%n        %d files, %.2f MB (%d UTF-8 bytes, sha256 %s...), %d documents of ~%d chars%n",
                corpus.source(), corpus.files(), bytes / 1e6, bytes, sha, docs.size(), docChars);
        out.printf(Locale.ROOT, "machine: %d available processors, %s %s, %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"), System.getProperty("os.arch"));
        out.flush();

        Tokenizer tok = Tokenizer.load(tokenizerFile);
        int[][] ours = new int[docs.size()][];
        for (int w = 0; w < warmup; w++) {
            encodeSequential(tok, docs, ours);
        }
        Timing ours1 = new Timing("polyv", 1, new double[reps]);
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            encodeSequential(tok, docs, ours);
            ours1.seconds()[r] = (System.nanoTime() - t0) / 1e9;
        }
        Timing oursN = new Timing("polyv", nThreads, new double[reps]);
        ExecutorService pool = Executors.newFixedThreadPool(nThreads);
        try {
            int[][] par = new int[docs.size()][];
            encodeParallel(tok, docs, par, pool, nThreads);
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                encodeParallel(tok, docs, par, pool, nThreads);
                oursN.seconds()[r] = (System.nanoTime() - t0) / 1e9;
            }
            for (int i = 0; i < docs.size(); i++) {
                if (!Arrays.equals(par[i], ours[i])) {
                    throw new IllegalStateException("parallel encoding differs from sequential on document " + i);
                }
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        long tokens = 0;
        for (int[] a : ours) {
            tokens += a.length;
        }

        Timing hf1 = null;
        Timing hfN = null;
        int mismatches = -1;
        String firstMismatch = null;
        if (!noHf) {
            HfRunner hf = new HfRunner(hfDir, out);
            hf.ensureInstalled();
            Path tmp = Files.createTempDirectory("polyv-tokbench");
            try {
                Path docsJson = tmp.resolve("docs.json");
                JSON.writeValue(docsJson.toFile(), docs);
                Path ids1 = tmp.resolve("ids-1.bin");
                hf1 = hf.bench(tokenizerFile, docsJson, ids1, reps, 1);
                hfN = hf.bench(tokenizerFile, docsJson, tmp.resolve("ids-n.bin"), reps, nThreads);
                int[][] hfIds = readIds(ids1, docs.size());
                mismatches = 0;
                for (int i = 0; i < docs.size(); i++) {
                    if (!Arrays.equals(hfIds[i], ours[i])) {
                        if (mismatches++ == 0) {
                            firstMismatch = "document " + i + ": " + abbreviate(docs.get(i));
                        }
                    }
                }
            } finally {
                try (var s = Files.list(tmp)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(tmp);
            }
        }

        out.println();
        out.printf(Locale.ROOT, "%-22s %8s %12s %10s %s%n", "", "threads", "median s", "MB/s", "all runs (s)");
        for (Timing t : new Timing[] {ours1, hf1, oursN, hfN}) {
            if (t != null) {
                out.printf(Locale.ROOT, "%-22s %8d %12.4f %10.2f %s%n", t.who(), t.threads(), t.median(),
                        t.mbPerSecond(bytes), fmt(t.seconds()));
            }
        }
        out.printf(Locale.ROOT, "tokens: %d (%.2f bytes/token)%n", tokens, (double) bytes / tokens);
        if (hf1 != null) {
            out.printf(Locale.ROOT, "ratio polyv / HF: single-threaded %.2fx, %d threads %.2fx%n",
                    hf1.median() / ours1.median(), nThreads, hfN.median() / oursN.median());
            out.printf(Locale.ROOT, "ids identical to HF on %d of %d documents%s%n", docs.size() - mismatches, docs.size(),
                    firstMismatch == null ? "" : " (first difference: " + firstMismatch + ")");
        }
        out.flush();
        if (jsonOut != null) {
            ObjectNode o = JSON.createObjectNode();
            o.put("corpus", corpus.source());
            o.put("corpus_bytes", bytes);
            o.put("corpus_sha256_prefix", sha);
            o.put("documents", docs.size());
            o.put("doc_chars", docChars);
            o.put("tokens", tokens);
            o.put("processors", Runtime.getRuntime().availableProcessors());
            o.put("threads", nThreads);
            putTiming(o, "polyv_1", ours1, bytes);
            putTiming(o, "polyv_n", oursN, bytes);
            if (hf1 != null) {
                putTiming(o, "hf_1", hf1, bytes);
                putTiming(o, "hf_n", hfN, bytes);
                o.put("ratio_1", hf1.median() / ours1.median());
                o.put("ratio_n", hfN.median() / oursN.median());
                o.put("mismatched_documents", mismatches);
            }
            AtomicFiles.writeString(jsonOut, JSON.writeValueAsString(o) + "\n");
        }
        if (mismatches > 0) {
            spec.commandLine().getErr().println("polyv bench tokenizer: ids differ from HF on " + mismatches
                    + " documents (first: " + firstMismatch + ")");
            return 2;
        }
        return 0;
    }

    private static void putTiming(ObjectNode o, String key, Timing t, long bytes) {
        ObjectNode n = o.putObject(key);
        n.put("threads", t.threads());
        n.put("median_seconds", t.median());
        n.put("mb_per_second", t.mbPerSecond(bytes));
        var arr = n.putArray("seconds");
        for (double s : t.seconds()) {
            arr.add(s);
        }
    }

    static void encodeSequential(Tokenizer tok, List<String> docs, int[][] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = tok.encode(docs.get(i));
        }
    }

    /** {@code threads} workers take documents from a shared counter until none are left. */
    static void encodeParallel(Tokenizer tok, List<String> docs, int[][] out, ExecutorService pool, int threads)
            throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            fs.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < out.length; i = next.getAndIncrement()) {
                    out[i] = tok.encode(docs.get(i));
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }

    /** Ids written by {@code hf.js bench}: little-endian int32, for each document its count then its ids. */
    static int[][] readIds(Path file, int docs) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[][] out = new int[docs][];
        for (int i = 0; i < docs; i++) {
            int n = b.getInt();
            out[i] = new int[n];
            for (int k = 0; k < n; k++) {
                out[i][k] = b.getInt();
            }
        }
        if (b.hasRemaining()) {
            throw new IllegalStateException(file + ": " + b.remaining() + " bytes after " + docs + " documents");
        }
        return out;
    }

    /** Runs {@code node hf.js bench ...} in the HF folder, installing its npm package first when missing. */
    static final class HfRunner {
        private final Path dir;
        private final PrintWriter log;

        HfRunner(Path dir, PrintWriter log) {
            this.dir = dir.toAbsolutePath();
            this.log = log;
        }

        void ensureInstalled() throws IOException, InterruptedException {
            PathChecks.directory("--hf-dir", dir);
            if (!Files.isRegularFile(dir.resolve("hf.js"))) {
                throw new IllegalArgumentException(dir + ": no hf.js here (use --hf-dir DIR, or --no-hf)");
            }
            if (Files.isDirectory(dir.resolve("node_modules/@anush008/tokenizers"))) {
                return;
            }
            log.println("installing HF tokenizers (npm ci in " + dir + ")...");
            log.flush();
            List<String> cmd = Files.isRegularFile(dir.resolve("package-lock.json"))
                    ? List.of("npm", "ci", "--no-audit", "--no-fund") : List.of("npm", "install", "--no-audit", "--no-fund");
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed in " + dir + ": " + lastLine(output));
            }
        }

        Timing bench(Path tokenizer, Path docsJson, Path idsOut, int reps, int threads)
                throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder("node", dir.resolve("hf.js").toString(), "bench",
                    tokenizer.toAbsolutePath().toString(), docsJson.toString(), idsOut.toString(), Integer.toString(reps))
                    .directory(dir.toFile());
            pb.environment().put("RAYON_NUM_THREADS", Integer.toString(threads));
            pb.environment().put("TOKENIZERS_PARALLELISM", threads > 1 ? "true" : "false");
            pb.redirectErrorStream(true);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot run node (needed for the HF side; --no-hf skips it): " + e.getMessage(), e);
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("node hf.js bench failed: " + lastLine(output));
            }
            String line = output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalStateException("node hf.js bench printed no result: " + lastLine(output)));
            JsonNode r = JSON.readTree(line);
            double[] s = new double[r.get("seconds").size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = r.get("seconds").get(i).asDouble();
            }
            return new Timing("HF tokenizers (Rust)", threads, s);
        }

        private static String lastLine(String s) {
            List<String> l = s.strip().lines().toList();
            return l.isEmpty() ? "(no output)" : l.getLast();
        }
    }

    private static String fmt(double[] s) {
        StringBuilder sb = new StringBuilder();
        for (double x : s) {
            sb.append(sb.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.4f", x));
        }
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String one = s.replace("\n", "\\n");
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package ai.polyv.core.demo;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorOutput;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.AtomicFolders;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The demo checkpoint on disk: a folder with {@code config.json} ({@link DemoWeights#config}),
 * {@code model.safetensors} (every tensor of {@link DemoWeights#tensors}, BF16, deterministic values),
 * {@code tokenizer.json} (the bundled real Qwen tokenizer) and {@value #MARKER} (version, tokenizer
 * size, CRC32C of the weights file).
 *
 * <p>Created on first use and reused afterwards: the folder is written as a whole into a temp folder
 * beside it, then renamed into place, so a reader sees either no folder or a complete one. A present
 * folder is reused when it is valid ({@link #problem}); otherwise, when it is a demo checkpoint (it holds
 * {@value #MARKER}) or empty, it is moved aside, deleted and created again. Anything else found there (a
 * file, a device, a folder of other files) is left alone and is an error.
 */
public final class DemoCheckpoint {

    /** The gzip'd Qwen tokenizer.json on the class path. */
    public static final String TOKENIZER_RESOURCE = "/ai/polyv/demo/qwen-tokenizer.json.gz";
    public static final String MARKER = "polyv-demo.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** How the folder came about. */
    public enum Origin { CREATED, CACHED, RECREATED }

    /**
     * @param dir           the checkpoint folder
     * @param origin        created now, reused, or re-created over an invalid one
     * @param replacedBecause why the folder found there was not reused (null unless RECREATED)
     * @param nanos         time spent checking and (if so) writing
     * @param bytes         size of model.safetensors
     */
    public record Prepared(Path dir, Origin origin, String replacedBecause, long nanos, long bytes) {}

    private DemoCheckpoint() {}

    /**
     * The default folder: {@code $POLYV_CACHE/demo-v<VERSION>} when {@code POLYV_CACHE} is set, else
     * {@code ~/.cache/polyv/demo-v<VERSION>}.
     */
    public static Path defaultDir(Map<String, String> env) {
        String cache = env.get("POLYV_CACHE");
        Path root = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "polyv");
        return root.resolve("demo-v" + DemoWeights.VERSION);
    }

    /**
     * Returns a valid demo checkpoint at {@code dir}, creating it when absent or invalid.
     *
     * @param progress where the progress bar is drawn while writing (null: none)
     */
    public static Prepared prepare(Path dir, PrintStream progress) {
        long t0 = System.nanoTime();
        Path abs = dir.toAbsolutePath().normalize();
        String reason = null;
        if (Files.exists(abs)) {
            reason = problem(abs);
            if (reason == null) return new Prepared(abs, Origin.CACHED, null, System.nanoTime() - t0, size(abs.resolve(Checkpoint.SINGLE_NAME)));
            requireReplaceable(abs);
        }
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".tmp-");
            try {
                writeInto(tmp, progress);
                if (Files.exists(abs)) {
                    if (problem(abs) == null) { // another process finished first
                        AtomicFolders.deleteTree(tmp);
                        return new Prepared(abs, Origin.CACHED, null, System.nanoTime() - t0, size(abs.resolve(Checkpoint.SINGLE_NAME)));
                    }
                    requireReplaceable(abs);
                    Path stale = abs.resolveSibling("." + abs.getFileName() + ".stale-" + System.nanoTime());
                    AtomicFolders.move(abs, stale);
                    AtomicFolders.deleteTree(stale);
                }
                try {
                    AtomicFolders.move(tmp, abs);
                } catch (IOException raced) {
                    // another process renamed its folder into place first: Linux reports ENOTEMPTY as a plain
                    // FileSystemException ("Directory not empty"), others as FileAlreadyExists / DirectoryNotEmpty
                    if (!Files.isDirectory(abs) || problem(abs) != null) throw raced;
                    AtomicFolders.deleteTree(tmp);
                    return new Prepared(abs, Origin.CACHED, null, System.nanoTime() - t0, size(abs.resolve(Checkpoint.SINGLE_NAME)));
                }
                AtomicFolders.fsync(abs.getParent());
            } catch (IOException | RuntimeException e) {
                AtomicFolders.deleteTree(tmp);
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the demo checkpoint in " + abs + ": " + e.getMessage(), e);
        }
        return new Prepared(abs, reason == null ? Origin.CREATED : Origin.RECREATED, reason, System.nanoTime() - t0,
                size(abs.resolve(Checkpoint.SINGLE_NAME)));
    }

    /**
     * Fails unless what is at {@code dir} may be deleted to make the checkpoint: a folder holding {@value #MARKER}
     * (a damaged demo checkpoint or one of another version) or an empty folder.
     */
    private static void requireReplaceable(Path dir) {
        String notFolder = PathChecks.notADirectory(dir);
        if (notFolder != null) {
            throw new IllegalArgumentException("demo checkpoint folder " + dir + " " + notFolder + ": not replacing it (use another --cache DIR)");
        }
        if (Files.isRegularFile(dir.resolve(MARKER))) return;
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("demo checkpoint folder " + dir + " holds files but no " + MARKER
                + ": it is not a demo checkpoint, not replacing it (use another --cache DIR)");
    }

    /** Why {@code dir} is not a valid demo checkpoint of this version, or null when it is. */
    public static String problem(Path dir) {
        try {
            Path marker = dir.resolve(MARKER);
            if (!Files.isRegularFile(marker)) return "no " + MARKER;
            JsonNode m = JSON.readTree(marker.toFile());
            if (!DemoWeights.VERSION.equals(m.path("version").asText())) return MARKER + " is of version " + m.path("version").asText();
            List<Integer> eos = new ArrayList<>();
            m.path("eos_token_ids").forEach(n -> eos.add(n.asInt()));
            PolyVConfig expected = DemoWeights.config(m.path("tokenizer_vocab").asInt(), eos);
            PolyVConfig actual = PolyVConfig.load(dir);
            if (!expected.equals(actual)) return "config.json differs from the demo config";
            Path tok = dir.resolve(TOKENIZER_FILE);
            if (!Files.isRegularFile(tok) || Files.size(tok) != m.path("tokenizer_bytes").asLong()) return TOKENIZER_FILE + " is missing or has the wrong size";
            try (Checkpoint ck = Checkpoint.open(dir)) {
                List<DemoWeights.TensorSpec> specs = DemoWeights.tensors(expected);
                if (ck.names().size() != specs.size()) return "model.safetensors has " + ck.names().size() + " tensors, expected " + specs.size();
                for (DemoWeights.TensorSpec s : specs) {
                    if (!ck.has(s.name())) return "model.safetensors has no tensor " + s.name();
                    TensorView v = ck.tensor(s.name());
                    if (v.dtype() != DType.BF16 || !Arrays.equals(v.shape(), s.shape())) return "tensor " + s.name() + " is " + v.dtype() + " " + Arrays.toString(v.shape());
                }
            }
            long crc = crc32c(dir.resolve(Checkpoint.SINGLE_NAME));
            if (crc != m.path("weights_crc32c").asLong()) return "model.safetensors checksum differs (file changed or damaged)";
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    /** The bundled Qwen tokenizer (parsed from the class path). */
    public static Tokenizer bundledTokenizer() {
        try (InputStream in = new GZIPInputStream(resource())) {
            return Tokenizer.load(in, "bundled " + TOKENIZER_RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled tokenizer " + TOKENIZER_RESOURCE, e);
        }
    }

    private static InputStream resource() {
        InputStream in = DemoCheckpoint.class.getResourceAsStream(TOKENIZER_RESOURCE);
        if (in == null) throw new IllegalStateException("the bundled tokenizer " + TOKENIZER_RESOURCE + " is missing from the class path");
        return in;
    }

    private static void writeInto(Path dir, PrintStream progress) throws IOException {
        Path tok = dir.resolve(TOKENIZER_FILE);
        AtomicFiles.write(tok, ch -> {
            try (InputStream in = new GZIPInputStream(resource())) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) ch.write(java.nio.ByteBuffer.wrap(buf, 0, n));
            }
        });
        Tokenizer tokenizer = Tokenizer.load(tok);
        List<Integer> eos = List.of(tokenizer.tokenId("<|endoftext|>"), tokenizer.tokenId("<|im_end|>"));
        PolyVConfig config = DemoWeights.config(tokenizer.vocabSize(), eos);
        config.save(dir.resolve(PolyVConfig.FILE_NAME));

        List<DemoWeights.TensorSpec> specs = DemoWeights.tensors(config);
        long total = specs.stream().mapToLong(s -> s.numel() * 2).sum();
        Path weights = dir.resolve(Checkpoint.SINGLE_NAME);
        try (ProgressBar bar = progress == null ? null : new ProgressBarBuilder().setTaskName("demo weights").setInitialMax(total)
                .setUnit(" MB", 1 << 20).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(progress, 100)).build()) {
            Map<String, TensorSource> tensors = new LinkedHashMap<>();
            for (DemoWeights.TensorSpec s : specs) tensors.put(s.name(), new GeneratedBf16(s, bar));
            SafetensorsWriter.write(weights, tensors, Map.of("format", "pt", "polyv_demo_version", DemoWeights.VERSION));
        }
        ObjectNode m = JSON.createObjectNode();
        m.put("version", DemoWeights.VERSION);
        m.put("seed", DemoWeights.SEED);
        m.put("tokenizer_vocab", tokenizer.vocabSize());
        m.putPOJO("eos_token_ids", eos);
        m.put("tokenizer_bytes", Files.size(tok));
        m.put("weights_crc32c", crc32c(weights));
        AtomicFiles.writeString(dir.resolve(MARKER), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
    }

    /** A demo tensor generated while it is written, as BF16. */
    private record GeneratedBf16(DemoWeights.TensorSpec spec, ProgressBar bar) implements TensorSource {
        @Override
        public DType dtype() {
            return DType.BF16;
        }

        @Override
        public long[] shape() {
            return spec.shape().clone();
        }

        @Override
        public void writeTo(TensorOutput out) throws IOException {
            float[] v = spec.values();
            int chunk = 1 << 20;
            for (int off = 0; off < v.length; off += chunk) {
                int n = Math.min(chunk, v.length - off);
                out.writeFloats(DType.BF16, v, off, n);
                if (bar != null) bar.stepBy(2L * n);
            }
        }
    }

    static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long step = 1 << 24;
            for (long off = 0; off < seg.byteSize(); off += step) crc.update(seg.asSlice(off, Math.min(step, seg.byteSize() - off)).asByteBuffer());
        }
        return crc.getValue();
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return -1;
        }
    }
}

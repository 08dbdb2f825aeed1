package ai.polyv.spark;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.preprocess.SmartResize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv spark generate}: the requests of a batch file (or a JSON-lines / Parquet dataset) run on a Spark
 * cluster, each executor JVM loading the model once and decoding its tasks' requests together. A request that fails
 * (bad JSON, an id outside the vocabulary, an unreadable image) gets an {@code error} in its result; the job goes on.
 * No Spark type appears in this class, lambdas included (picocli reflects on its methods): it loads without Spark, and
 * {@link SparkJobs} is reached only when it runs.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Batch inference on Apache Spark: the lines of --batch-file (as for `polyv generate --batch-file`), or a dataset.",
                "Each executor JVM loads the model once; a request that fails gets an \"error\" in its result line and the job goes on."})
public final class SparkGenerateCommand implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2] or spark://host:7077 (default: the one spark-submit sets)")
    String master;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder, readable at this path on every executor")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: DIR/tokenizer.json when present)")
    Path tokenizer;

    @ArgGroup(multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--batch-file", required = true, paramLabel = "IN.jsonl",
                description = "a local file, one request per line (the format of `polyv generate --batch-file`); needs --out")
        Path batchFile;

        @Option(names = "--input", required = true, paramLabel = "PATH",
                description = "a dataset of requests (--format): an id column and request fields as columns; needs --output")
        String input;
    }

    @Option(names = "--out", paramLabel = "OUT.jsonl", description = "with --batch-file: one result line per request, in IN's order (written atomically)")
    Path out;

    @Option(names = "--output", paramLabel = "PATH", description = "with --input: where the result dataset is written (--format; must not exist)")
    String output;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "json|parquet", description = "with --input/--output (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N", description = "with --batch-file: tasks (default: Spark's default parallelism)")
    int partitions;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N", description = "sequences decoded together per executor JVM (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU worker threads per executor JVM (default: all processors)")
    int threads;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "cpu, cuda or cuda-bf16 (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--system", paramLabel = "TEXT", description = "system message of chat prompts without one")
    String system;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop string of every request (repeatable)")
    List<String> stops = new ArrayList<>();

    @Option(names = "--synergy-tokens", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int synergyTokens;

    @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "0 = no limit (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--fps", defaultValue = "2", paramLabel = "N", description = "frames per second of video folders (default: ${DEFAULT-VALUE})")
    double fps;

    @Option(names = "--scene-views", defaultValue = "4", paramLabel = "N", description = "views per scene (default: ${DEFAULT-VALUE})")
    int sceneViews;

    @Option(names = "--show-special", description = "keep special tokens in the text")
    boolean showSpecial;

    @Override
    public Integer call() {
        if (source.batchFile != null && out == null) throw new IllegalArgumentException("--batch-file needs --out FILE for the results");
        if (source.input != null && output == null) throw new IllegalArgumentException("--input needs --output PATH for the results");
        if (!format.equals("json") && !format.equals("parquet")) throw new IllegalArgumentException("--format must be json or parquet, got " + format);
        String base = source.batchFile == null ? "." : source.batchFile.toAbsolutePath().getParent().toString();
        GenerateOptions o = new GenerateOptions(model.toAbsolutePath().toString(), tokenizer == null ? null : tokenizer.toAbsolutePath().toString(),
                backend, threads, maxBatch, base, system, stops, synergyTokens, maxNewTokens, temperature, topK, topP, seed, fps, sceneViews,
                showSpecial, SmartResize.DEFAULT_MIN_PIXELS, SmartResize.DEFAULT_MAX_PIXELS);
        if (master != null && master.startsWith("local")) PathChecks.directory("model folder", model);
        SparkJobs.Summary s;
        try {
            s = SparkJobs.generate(master, source.batchFile, out, source.input, output, format, o, partitions);
        } catch (NoClassDefFoundError e) {
            throw SparkCommand.noSpark(e);
        }
        System.err.printf(Locale.ROOT, "spark generate: %d requests (%d failed), %d tokens in %.1f s = %.1f tokens/s (model loads in this JVM: %d) -> %s%n",
                s.requests(), s.failed(), s.tokens(), s.seconds(), s.tokens() / s.seconds(), s.loads(), out != null ? out : output);
        return 0;
    }
}

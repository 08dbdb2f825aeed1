package ai.polyv.spark;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.train.TrainStage;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.loop.TrainOptions;
import ai.polyv.train.loop.Trainer;
import ai.polyv.train.optim.LrSchedule;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv spark train}: {@code polyv train} as data-parallel ranks of a Spark barrier stage ({@link SparkTrainer}).
 * The options mean what they mean for {@code polyv train}; {@code --ranks} splits each global batch. No Spark type
 * appears here (picocli reflects on this class without Spark on the classpath).
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Data-parallel fine-tuning on Apache Spark: --ranks tasks of a barrier stage share each global batch,",
                "their gradients are summed every step (fixed rank order) and every rank applies the same AdamW step."})
public final class SparkTrainCommand implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2] (default: the one spark-submit sets)")
    String master;

    @Option(names = "--ranks", defaultValue = "2", paramLabel = "N", description = "tasks of the barrier stage (default: ${DEFAULT-VALUE})")
    int ranks;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "base model folder, at this path on every executor")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE.arrow", description = "training rows, at this path on every executor")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "checkpoints, loss.csv/png, final model (written by rank 0)")
    Path out;

    @Option(names = "--stage", defaultValue = "2-1", paramLabel = "2-1|2-2", description = "default: ${DEFAULT-VALUE}")
    String stage;

    @Option(names = "--steps", required = true, paramLabel = "N")
    long steps;

    @Option(names = "--lr", required = true, paramLabel = "X")
    double lr;

    @Option(names = "--batch-tokens", defaultValue = "0", paramLabel = "N", description = "sequence tokens per global batch (default: ${DEFAULT-VALUE})")
    int batchTokens;

    @Option(names = "--warmup-ratio", defaultValue = "0.03", paramLabel = "R")
    double warmupRatio;

    @Option(names = "--schedule", defaultValue = "cosine", paramLabel = "cosine|constant")
    String schedule;

    @Option(names = "--min-lr", defaultValue = "0", paramLabel = "X")
    double minLr;

    @Option(names = "--clip", defaultValue = "1.0", paramLabel = "X")
    double clip;

    @Option(names = "--weight-decay", defaultValue = "0.0", paramLabel = "X")
    double weightDecay;

    @Option(names = "--save-every", defaultValue = "100", paramLabel = "N")
    int saveEvery;

    @Option(names = "--keep", defaultValue = "2", paramLabel = "N")
    int keep;

    @Option(names = "--eval", paramLabel = "FILE.arrow")
    Path evalData;

    @Option(names = "--resume", paramLabel = "DIR")
    Path resume;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S")
    long seed;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|cuda")
    String backend;

    @Override
    public Integer call() {
        TrainOptions options = new TrainOptions(TrainStage.parse(stage), steps, lr, schedule, warmupRatio, minLr, clip, batchTokens, saveEvery, seed,
                weightDecay, keep);
        LrSchedule.of(schedule, lr, steps, warmupRatio, minLr);
        PathChecks.directory("model folder", model);
        PathChecks.regularFile("training data", data);
        if (evalData != null) PathChecks.regularFile("eval data", evalData);
        PathChecks.directoryOrAbsent("--out", out);
        if (resume == null && !new CheckpointStore(out.resolve(Trainer.CHECKPOINTS), 1).list().isEmpty()) {
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume " + out + " to continue, or choose another --out");
        }
        SparkTrainer.Job job = new SparkTrainer.Job(abs(model), abs(data), evalData == null ? null : abs(evalData), abs(out), options, backend,
                resume == null ? null : abs(resume));
        long t0 = System.nanoTime();
        List<SparkTrainer.Step> curve;
        try {
            curve = SparkJobs.train(master, ranks, job);
        } catch (NoClassDefFoundError e) {
            throw SparkCommand.noSpark(e);
        }
        SparkTrainer.Step last = curve.getLast();
        System.out.printf(Locale.ROOT, "polyv spark train: %d ranks, steps to %d in %.1f s; step %d: total %.6f (ce %.6f)%s%nmodel: %s%n", ranks, steps,
                (System.nanoTime() - t0) / 1e9, last.step(), last.total(), last.ce(),
                last.evalTotal() == null ? "" : String.format(Locale.ROOT, "; held out: total %.6f", last.evalTotal()), out.resolve("final"));
        return 0;
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().toString();
    }
}

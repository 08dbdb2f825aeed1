package ai.polyv.cli;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.TrainStage;
import ai.polyv.train.TrainingObjective;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.checkpoint.ModelExport;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.loop.ModelObjectives;
import ai.polyv.train.loop.ObjectiveFactory;
import ai.polyv.train.loop.TrainOptions;
import ai.polyv.train.loop.Trainer;
import ai.polyv.train.optim.LrSchedule;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code polyv train}: fine-tunes the tensors of a PolyV stage on an Arrow dataset. Everything is
 * checked before anything is written: the config, every row of the training and held-out files, the
 * output folder (it must not hold checkpoints unless resuming), the resume checkpoint's settings. Output
 * in {@code --out}: {@code checkpoints/step-N/} (kept: the newest {@code --keep}), {@code loss.csv},
 * {@code loss.png} and, at the end, {@code final/}: a full model folder for {@code polyv generate}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune routers, experts and alignment heads from an Arrow IPC dataset.",
                "Make a dataset with `polyv dataset synthetic`; check one with `polyv dataset check`."})
public final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Base model folder (config.json + safetensors).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE.arrow", description = "Training rows (schema: see `polyv dataset --help`).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder: checkpoints, loss.csv/png, final model.")
    Path out;

    @Option(names = "--stage", defaultValue = "2-1", paramLabel = "2-1|2-2",
            description = "2-1: routers + alignment heads; 2-2: routers + experts + heads (default: ${DEFAULT-VALUE}).")
    String stage;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "Optimizer steps.")
    long steps;

    @Option(names = "--lr", required = true, paramLabel = "X", description = "Peak learning rate (AdamW).")
    double lr;

    @Option(names = "--batch-tokens", defaultValue = "0", paramLabel = "N",
            description = "Sequence tokens per step: rows are added while the total stays within N (0 = one row per step; default).")
    int batchTokens;

    @Option(names = "--warmup-ratio", defaultValue = "0.03", paramLabel = "R", description = "Linear warm-up over this fraction of the steps (default: ${DEFAULT-VALUE}).")
    double warmupRatio;

    @Option(names = "--schedule", defaultValue = "cosine", paramLabel = "cosine|constant", description = "After warm-up (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--min-lr", defaultValue = "0", paramLabel = "X", description = "Cosine floor (default: ${DEFAULT-VALUE}).")
    double minLr;

    @Option(names = "--clip", defaultValue = "1.0", paramLabel = "X", description = "Global gradient-norm limit, 0 = off (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--weight-decay", defaultValue = "0.0", paramLabel = "X", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--save-every", defaultValue = "100", paramLabel = "N", description = "Checkpoint and evaluate every N steps and at the end (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--keep", defaultValue = "2", paramLabel = "N", description = "Checkpoints kept on disk (default: ${DEFAULT-VALUE}).")
    int keep;

    @Option(names = "--eval", paramLabel = "FILE.arrow", description = "Held-out rows, evaluated at every checkpoint.")
    Path evalData;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint folder, or the newest in an --out folder.")
    Path resume;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Data-order seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|cuda", description = "Backend of the model objective (default: ${DEFAULT-VALUE}).")
    String backend;

    private final ObjectiveFactory objectives;

    public TrainCommand() {
        this(ModelObjectives.POLYV);
    }

    /** With another objective (tests use a toy one). */
    public TrainCommand(ObjectiveFactory objectives) {
        this.objectives = objectives;
    }

    @Override
    public Integer call() {
        PrintWriter outW = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TrainStage trainStage = TrainStage.parse(stage);
        TrainOptions options = new TrainOptions(trainStage, steps, lr, schedule, warmupRatio, minLr, clip, batchTokens, saveEvery, seed,
                weightDecay, keep);
        LrSchedule.of(schedule, lr, steps, warmupRatio, minLr); // option errors before any work
        PathChecks.directory("model folder", model);
        PathChecks.regularFile("training data", data);
        if (evalData != null) PathChecks.regularFile("eval data", evalData);
        PathChecks.directoryOrAbsent("--out", out);
        PolyVConfig config = PolyVConfig.load(model);
        VisionPreprocessor pre = new VisionPreprocessor();
        TrainDataset train = TrainDataset.open(data, config, pre);
        TrainDataset eval = evalData == null ? null : TrainDataset.open(evalData, config, pre);
        if (resume == null && !new CheckpointStore(out.resolve(Trainer.CHECKPOINTS), 1).list().isEmpty()) {
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume " + out + " to continue, or choose another --out");
        }
        TrainingObjective objective = objectives.create(model, config, trainStage, backend);
        try {
            return train(objective, config, trainStage, options, train, eval, outW, err);
        } finally {
            if (objective instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    err.println("polyv train: closing the objective: " + e.getMessage());
                }
            }
        }
    }

    private int train(TrainingObjective objective, PolyVConfig config, TrainStage trainStage, TrainOptions options, TrainDataset train,
                      TrainDataset eval, PrintWriter outW, PrintWriter err) {
        List<Param> params = objective.params();
        long numel = 0;
        for (Param p : params) {
            if (!trainStage.trainable(p.name())) {
                throw new IllegalStateException("the objective trains \"" + p.name() + "\", which stage " + trainStage + " keeps frozen");
            }
            numel += p.numel();
        }
        ModelExport.check(model, params);
        Trainer trainer = new Trainer(objective, train, eval, options, out);
        CheckpointStore.Loaded from = resume == null ? null : trainer.loadResume(resume);
        long first = from == null ? 0 : from.state().step();
        outW.printf(Locale.ROOT, "polyv train: stage %s, %d tensors (%,d values), %d rows%s, steps %d..%d%n", trainStage, params.size(), numel,
                train.size(), eval == null ? "" : " + " + eval.size() + " held out", first + 1, steps);
        outW.flush();

        Trainer.Result result;
        long[] tokens = {0};
        long[] nanos = {0};
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .startsFrom(first, Duration.ZERO).setUpdateIntervalMillis(200).continuousUpdate()
                .setConsumer(new DelegatingProgressBarConsumer(line -> {
                    err.print("\r" + line);
                    err.flush();
                }, 150)).build()) {
            result = trainer.run(from, (rec, seqTokens, ns) -> {
                tokens[0] += seqTokens;
                nanos[0] += ns;
                bar.setExtraMessage(String.format(Locale.ROOT, "ce %.4f mse %.4f/%.4f aux %.4f total %.4f | %.0f tok/s", rec.ce(),
                        rec.mseTemporal(), rec.mseSpatial(), rec.aux(), rec.total(), tokens[0] / (nanos[0] / 1e9)));
                bar.stepTo(rec.step());
            });
        }
        err.println();
        Path finalDir = out.resolve("final");
        ModelExport.write(model, params, finalDir);
        StepRecord lastRec = result.history().getLast();
        outW.printf(Locale.ROOT, "step %d: total %.6f (ce %.6f, mse temporal %.6f, spatial %.6f, aux %.6f)%s%n", lastRec.step(), lastRec.total(),
                lastRec.ce(), lastRec.mseTemporal(), lastRec.mseSpatial(), lastRec.aux(),
                lastRec.evalTotal() == null ? "" : String.format(Locale.ROOT, "; held out: total %.6f, ce %.6f", lastRec.evalTotal(), lastRec.evalCe()));
        if (nanos[0] > 0) outW.printf(Locale.ROOT, "throughput: %.1f sequence tokens/s over %d steps%n", tokens[0] / (nanos[0] / 1e9), steps - first);
        outW.printf("checkpoint: %s%nloss curve: %s, %s%nmodel: %s%n", result.lastCheckpoint(), out.resolve(Trainer.CSV), out.resolve(Trainer.PNG),
                finalDir);
        outW.flush();
        return 0;
    }
}

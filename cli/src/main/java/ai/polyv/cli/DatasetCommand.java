package ai.polyv.cli;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.data.SyntheticMotionTask;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.data.TrainRow;
import ai.polyv.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code polyv dataset}: make and check training Arrow files. */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = {"Make and check training data (Arrow IPC files).",
                "Columns, one sample per row:",
                "  input_ids         list<int32>        required",
                "  labels            list<int32>        required, -100 = not a target",
                "  images            list<binary>       PNG/JPEG, in prompt order",
                "  videos            list<list<binary>> frames per video, in prompt order",
                "  video_fps         float32            frame rate (needed with videos)",
                "  teacher_temporal  list<list<float32>> one row per synergy token",
                "  teacher_spatial   list<list<float32>> one row per synergy token"},
        subcommands = {DatasetCommand.Synthetic.class, DatasetCommand.Check.class})
public final class DatasetCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** The config of {@code --model DIR}, or the demo config for {@code tokenizer} without one. */
    static PolyVConfig config(Path model, Tokenizer tokenizer) {
        return model == null ? SyntheticMotionTask.demoConfig(tokenizer) : PolyVConfig.load(PathChecks.directory("model folder", model));
    }

    @Command(name = "synthetic", mixinStandardHelpOptions = true,
            description = {"Write train.arrow and eval.arrow of a synthetic cross-modal task.",
                    "'Which colour moved where': an image with a coloured square and a video of it moving;",
                    "the answer names the colour and the direction."})
    static final class Synthetic implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for train.arrow and eval.arrow.")
        Path out;

        @Option(names = "--train", defaultValue = "256", paramLabel = "N", description = "Training rows (default: ${DEFAULT-VALUE}).")
        int train;

        @Option(names = "--eval", defaultValue = "32", paramLabel = "N", description = "Held-out rows (default: ${DEFAULT-VALUE}).")
        int eval;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed (held-out rows use S+1; default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--model", paramLabel = "DIR", description = "Model whose config.json gives vocabulary, token ids and head widths (default: the demo config).")
        Path model;

        @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: the bundled Qwen tokenizer).")
        Path tokenizer;

        @Option(names = "--synergy-tokens", defaultValue = "2", paramLabel = "N", description = "Synergy tokens per prompt (default: ${DEFAULT-VALUE}).")
        int synergy;

        @Option(names = "--no-teacher", description = "Do not write teacher features.")
        boolean noTeacher;

        @Override
        public Integer call() {
            if (train <= 0 || eval < 0) throw new IllegalArgumentException("--train must be positive and --eval >= 0");
            PathChecks.directoryOrAbsent("--out", out);
            Tokenizer tok = tokenizer == null ? SyntheticMotionTask.bundledTokenizer() : Tokenizer.load(tokenizer);
            PolyVConfig cfg = config(model, tok);
            SyntheticMotionTask.Options d = SyntheticMotionTask.Options.DEFAULT;
            SyntheticMotionTask task = new SyntheticMotionTask(tok, cfg,
                    new SyntheticMotionTask.Options(d.size(), d.frames(), d.square(), d.step(), d.fps(), synergy, !noTeacher));
            task.writeSplits(out, train, eval, seed);
            TrainRow first = task.row(task.draw(java.util.random.RandomGeneratorFactory.of("L64X128MixRandom").create(seed)));
            PrintWriter w = spec.commandLine().getOut();
            w.printf(Locale.ROOT, "wrote %s (%d rows) and %s (%d rows), %d tokens per row%n", out.resolve("train.arrow"), train,
                    out.resolve("eval.arrow"), eval, first.inputIds().length);
            w.flush();
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate every row of a training file against a model config.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE.arrow")
        Path file;

        @Option(names = "--model", paramLabel = "DIR", description = "Model folder whose config.json to check against (default: the demo config).")
        Path model;

        @Override
        public Integer call() {
            PathChecks.regularFile("dataset file", file);
            PolyVConfig cfg = config(model, model == null ? SyntheticMotionTask.bundledTokenizer() : null);
            TrainDataset d = TrainDataset.open(file, cfg, new VisionPreprocessor());
            long tokens = 0, images = 0, videos = 0, teacher = 0;
            for (int i = 0; i < d.size(); i++) {
                tokens += d.tokens(i);
                images += d.row(i).images().size();
                videos += d.row(i).videos().size();
                if (d.row(i).teacherTemporal() != null || d.row(i).teacherSpatial() != null) teacher++;
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf(Locale.ROOT, "%s: %d rows OK, %d tokens, %d images, %d videos, %d rows with teacher features%n", file, d.size(), tokens, images,
                    videos, teacher);
            w.flush();
            return 0;
        }
    }
}

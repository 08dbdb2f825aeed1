package ai.polyv.train.loop;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.cli.TrainCommand;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.data.TrainDataWriter;
import ai.polyv.train.data.TrainRow;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The whole {@code polyv train} path (TrainCommand, Trainer, checkpoints, export) with {@link LinearToyObjective}. */
class TrainCommandTest {
    static final Path TINY_A = SharedData.golden("tiny-a");

    @TempDir
    Path tmp;
    Path model, train, eval;

    @BeforeEach
    void setUp() throws IOException {
        model = Files.createDirectories(tmp.resolve("model"));
        Files.copy(TINY_A.resolve("config.json"), model.resolve("config.json"));
        Files.copy(TINY_A.resolve("model.safetensors"), model.resolve("model.safetensors"));
        List<TrainRow> rows = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            if (i % 3 == 0) rows.add(ai.polyv.train.data.TrainDataTestRows.imageRow());
            else if (i % 3 == 1) rows.add(ai.polyv.train.data.TrainDataTestRows.videoRow());
            else rows.add(TrainRow.text(new int[] {1, 2, 3 + i, 4, 5 + i}, new int[] {-100, 2, 3 + i, 4, 5 + i}));
        }
        train = tmp.resolve("train.arrow");
        TrainDataWriter.write(train, rows);
        eval = tmp.resolve("eval.arrow");
        TrainDataWriter.write(eval, rows.subList(0, 3));
    }

    record Run(int exit, String out, String err) {}

    Run train(int failAtCall, String... args) {
        return trainWith((dir, config, stage, backend) -> new LinearToyObjective(dir, failAtCall), args);
    }

    String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--data", train.toString(), "--eval", eval.toString(), "--out",
                out.toString(), "--stage", "2-1", "--steps", "10", "--lr", "0.05", "--warmup-ratio", "0.2", "--save-every", "3",
                "--batch-tokens", "30", "--clip", "5", "--seed", "11"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void crashThenResumeReproducesTheRunBitForBit() throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        Run full = train(-1, args(a));
        assertEquals(0, full.exit(), full.err());
        assertTrue(full.out().contains("stage 2-1, 2 tensors (448 values), 7 rows + 3 held out, steps 1..10"), full.out());
        assertTrue(full.err().contains("train") && full.err().contains("tok/s"), full.err()); // the progress line

        Run crashed = train(14, args(b)); // the 14th forward (training or held-out) throws: a crash in mid-run
        assertEquals(2, crashed.exit());
        assertTrue(crashed.err().contains("injected crash at call 14"), crashed.err());
        long savedStep = CheckpointStore.load(CheckpointStore.resolve(b)).state().step();
        assertTrue(savedStep >= 3 && savedStep < 10, "crashed after checkpoint step " + savedStep);
        assertFalse(Files.exists(b.resolve("final")));
        Run resumed = train(-1, args(b, "--resume", b.toString()));
        assertEquals(0, resumed.exit(), resumed.err());

        String csvA = Files.readString(a.resolve(Trainer.CSV)), csvB = Files.readString(b.resolve(Trainer.CSV));
        assertEquals(csvA, csvB); // shortest round-trip decimals: equal text = equal double bits
        List<String> lines = csvA.lines().toList();
        assertEquals(12, lines.size());
        assertEquals(LossCurve.HEADER, lines.getFirst());
        assertTrue(lines.get(1).startsWith("0,0.0,,,,,,,0,") && !lines.get(1).endsWith(","), "held-out baseline: " + lines.get(1));
        lines = lines.subList(1, lines.size()); // from here on, lines.get(s) is step s
        assertTrue(lines.get(3).startsWith("3,"));
        assertFalse(lines.get(3).endsWith(","), "eval after step 3: " + lines.get(3));
        assertTrue(lines.get(4).endsWith(",,"), "no eval after step 4: " + lines.get(4));
        double first = Double.parseDouble(lines.get(1).split(",")[6]), last = Double.parseDouble(lines.get(10).split(",")[6]);
        assertTrue(last < first, "total loss " + first + " -> " + last);
        assertEquals(0.0, Double.parseDouble(lines.get(1).split(",")[1])); // warm-up starts at rate 0

        Path ckA = CheckpointStore.resolve(a), ckB = CheckpointStore.resolve(b);
        assertEquals("step-00000010", ckA.getFileName().toString());
        for (String f : List.of(CheckpointStore.TRAINABLE, CheckpointStore.OPTIMIZER)) {
            assertArrayEquals(Files.readAllBytes(ckA.resolve(f)), Files.readAllBytes(ckB.resolve(f)), f);
        }
        assertArrayEquals(Files.readAllBytes(a.resolve("final/model.safetensors")), Files.readAllBytes(b.resolve("final/model.safetensors")));
        assertEquals(List.of(a.resolve("checkpoints/step-00000009"), ckA), new CheckpointStore(a.resolve("checkpoints"), 2).list());
    }

    @Test
    void finalModelCurvePngAndGuards() throws IOException {
        Path out = tmp.resolve("o");
        assertEquals(0, train(-1, args(out)).exit());
        BufferedImage png = ImageIO.read(out.resolve(Trainer.PNG).toFile());
        assertNotNull(png);
        assertEquals(LossCurve.WIDTH, png.getWidth());
        assertEquals(LossCurve.HEIGHT, png.getHeight());

        CheckpointStore.Loaded last = CheckpointStore.load(CheckpointStore.resolve(out));
        assertEquals(10, last.state().step());
        assertEquals(Files.readString(model.resolve("config.json")), Files.readString(out.resolve("final/config.json")));
        try (Checkpoint base = Checkpoint.open(model); Checkpoint fin = Checkpoint.open(out.resolve("final"))) {
            assertEquals(base.names(), fin.names());
            for (String n : base.names()) {
                TensorView bv = base.tensor(n), fv = fin.tensor(n);
                assertEquals(bv.dtype(), fv.dtype(), n);
                if (last.values().containsKey(n)) {
                    // trained: the checkpoint's F32 values rounded to the base dtype
                    MemorySegment want = TensorData.fromFloats(bv.dtype(), bv.shape(), last.values().get(n)).bytes();
                    assertEquals(-1, want.mismatch(fv.data()), n);
                    assertTrue(bv.data().mismatch(fv.data()) != -1, n + " changed");
                } else {
                    assertEquals(-1, bv.data().mismatch(fv.data()), n + " frozen, byte-identical");
                }
            }
        }

        // the exported folder loads as a model; the trained router changes the logits of a text prompt
        int[] prompt = {1988, 17, 230, 1500, 42, 7, 99, 1023};
        try (var be = new ai.polyv.core.backend.CpuBackend(1);
             var baseModel = ai.polyv.core.model.PolyVModel.load(model, be);
             var tuned = ai.polyv.core.model.PolyVModel.load(out.resolve("final"), be);
             var s0 = baseModel.newSession(16); var s1 = tuned.newSession(16)) {
            float[] l0 = s0.prefill(prompt, List.of()), l1 = s1.prefill(prompt, List.of());
            assertEquals(l0.length, l1.length);
            boolean differ = false;
            for (int i = 0; i < l0.length; i++) {
                assertTrue(Float.isFinite(l1[i]));
                differ |= l0[i] != l1[i];
            }
            assertTrue(differ, "the fine-tuned router must change the logits");
        }

        Run again = train(-1, args(out));
        assertEquals(2, again.exit());
        assertTrue(again.err().contains(out + " already holds checkpoints: pass --resume"), again.err());
        String[] lower = args(tmp.resolve("x"), "--resume", out.toString());
        lower[List.of(lower).indexOf("--lr") + 1] = "0.01";
        Run other = train(-1, lower);
        assertEquals(2, other.exit());
        assertTrue(other.err().contains("--lr is 0.01 but the checkpoint was trained with 0.05"), other.err());
        Run finished = train(-1, args(out, "--resume", out.toString()));
        assertEquals(0, finished.exit(), finished.err()); // already at the last step: nothing to do, model re-exported
    }

    @Test
    void badDataStopsBeforeAnythingIsWritten() {
        Path bad = tmp.resolve("bad.arrow");
        TrainDataWriter.write(bad, List.of(TrainRow.text(new int[] {1, 2}, new int[] {-100, 2}), TrainRow.text(new int[] {1, 9999}, new int[] {-100, 2})));
        Path out = tmp.resolve("never");
        List<String> a = new ArrayList<>(List.of(args(out)));
        a.set(a.indexOf(train.toString()), bad.toString());
        Run r = train(-1, a.toArray(String[]::new));
        assertEquals(2, r.exit());
        assertTrue(r.err().contains(bad + ": row 1: field \"input_ids\": entry 1 = 9999 is outside the vocabulary [0, 2048)"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void aParameterThatIsNotInTheBaseStopsBeforeTraining() {
        Path out = tmp.resolve("p");
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TrainCommand((dir, config, stage, backend) -> new ai.polyv.train.TrainingObjective() {
            final ai.polyv.train.autograd.Param p = ai.polyv.train.autograd.Param.zeroGrad(LinearToyObjective.ROUTER, new long[] {2}, new float[2]);

            @Override
            public List<ai.polyv.train.autograd.Param> params() {
                return List.of(p);
            }

            @Override
            public ai.polyv.train.StepLosses forwardBackward(ai.polyv.train.TrainExample e) {
                throw new AssertionError("must not train");
            }
        }));
        cli.setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter()));
        cli.setExecutionExceptionHandler((ex, c, p) -> {
            c.getErr().println(ex.getMessage());
            return 2;
        });
        assertEquals(2, cli.execute(args(out)));
        assertEquals("trained tensor \"" + LinearToyObjective.ROUTER + "\" has shape [2], the base checkpoint " + model + " has [4, 96]",
                err.toString().strip());
        assertFalse(Files.exists(out));
    }

    /** The real objective (PolyVObjective on tiny-a), crashed after a checkpoint, resumed: same losses bit for bit. */
    @Test
    void realObjectiveCrashThenResumeIsBitExact() throws IOException {
        Path a = tmp.resolve("ra"), b = tmp.resolve("rb");
        String[] base = {"--steps", "4", "--save-every", "2"};
        Run full = trainWith(ModelObjectives.POLYV, realArgs(a, base));
        assertEquals(0, full.exit(), full.err());
        assertTrue(full.out().contains("stage 2-1, 10 tensors"), full.out());
        ObjectiveFactory crashing = (dir, config, stage, backend) -> {
            ai.polyv.train.TrainingObjective real = ModelObjectives.POLYV.create(dir, config, stage, backend);
            return new ai.polyv.train.TrainingObjective() {
                @Override
                public List<ai.polyv.train.autograd.Param> params() {
                    return real.params();
                }

                @Override
                public ai.polyv.train.StepLosses forwardBackward(ai.polyv.train.TrainExample e) {
                    // crash in the first step after the step-2 checkpoint was written
                    if (!new CheckpointStore(b.resolve(Trainer.CHECKPOINTS), 1).list().isEmpty()) {
                        throw new IllegalStateException("injected crash after a checkpoint");
                    }
                    return real.forwardBackward(e);
                }

                @Override
                public ai.polyv.train.StepLosses evaluate(ai.polyv.train.TrainExample e) {
                    return real.evaluate(e);
                }
            };
        };
        Run crashed = trainWith(crashing, realArgs(b, base));
        assertEquals(2, crashed.exit(), crashed.err());
        assertTrue(crashed.err().contains("injected crash after a checkpoint"), crashed.err());
        assertEquals(2, CheckpointStore.load(CheckpointStore.resolve(b)).state().step());
        List<String> resumeArgs = new ArrayList<>(List.of(realArgs(b, base)));
        resumeArgs.addAll(List.of("--resume", b.toString()));
        Run resumed = trainWith(ModelObjectives.POLYV, resumeArgs.toArray(String[]::new));
        assertEquals(0, resumed.exit(), resumed.err());
        String csvA = Files.readString(a.resolve(Trainer.CSV)), csvB = Files.readString(b.resolve(Trainer.CSV));
        assertEquals(csvA, csvB);
        for (String line : csvA.lines().skip(2).toList()) { // header, step-0 baseline
            double total = Double.parseDouble(line.split(",")[6]);
            assertTrue(Double.isFinite(total) && total > 0, line);
        }
        assertArrayEquals(Files.readAllBytes(a.resolve("final/model.safetensors")), Files.readAllBytes(b.resolve("final/model.safetensors")));
    }

    String[] realArgs(Path out, String... extra) {
        String[] a = args(out);
        List<String> l = new ArrayList<>(List.of(a));
        for (int i = 0; i < extra.length; i += 2) {
            int at = l.indexOf(extra[i]);
            if (at >= 0) l.set(at + 1, extra[i + 1]);
            else l.addAll(List.of(extra[i], extra[i + 1]));
        }
        l.set(l.indexOf("--lr") + 1, "0.001");
        l.addAll(List.of("--backend", "cpu"));
        return l.toArray(String[]::new);
    }

    Run trainWith(ObjectiveFactory factory, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cli = new CommandLine(new TrainCommand(factory));
        cli.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((ex, c, p) -> {
            c.getErr().println("polyv train: " + ex.getMessage());
            return 2;
        });
        int rc = cli.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }
}

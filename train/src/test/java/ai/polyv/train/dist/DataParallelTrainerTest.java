package ai.polyv.train.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.train.PolyVObjective;
import ai.polyv.train.TrainStage;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.data.TrainDataTestRows;
import ai.polyv.train.data.TrainDataWriter;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.data.TrainRow;
import ai.polyv.train.loop.TrainOptions;
import ai.polyv.train.loop.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training on tiny-a with ranks as threads ({@link InJvmCollective}): the same loss curve as one
 * process within 1e-6 relative, the same parameters on every rank, and a resumed 2-rank run equal bit for bit to an
 * uninterrupted one.
 */
class DataParallelTrainerTest {
    static final Path TINY_A = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a");

    @TempDir
    Path tmp;

    /** 8 rows (image, video, text); 40 sequence tokens per step: 3 or 4 rows. */
    static TrainDataset data(Path dir) {
        Path f = dir.resolve("train.arrow");
        List<TrainRow> rows = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            rows.add(i % 3 == 0 ? TrainDataTestRows.imageRow() : i % 3 == 1 ? TrainDataTestRows.videoRow()
                    : TrainRow.text(new int[] {1, 2, 3 + i}, new int[] {-100, 2, 3 + i}));
        }
        TrainDataWriter.write(f, rows);
        return TrainDataset.open(f, PolyVConfig.load(TINY_A), new VisionPreprocessor());
    }

    static TrainOptions options(long steps, int saveEvery) {
        return new TrainOptions(TrainStage.STAGE_2_1, steps, 1e-3, "constant", 0, 0, 1.0, 40, saveEvery, 7, 0.01, 5);
    }

    record Run(List<StepRecord> history, List<float[]> params) {}

    /** Runs {@code ranks} ranks (threads) to {@code steps}, from scratch or from the checkpoint {@code resume}. */
    static List<Run> train(int ranks, Path data, Path out, long steps, int saveEvery, Path resume) throws Exception {
        List<Collective> group = InJvmCollective.group(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<Run>> futures = new ArrayList<>();
            for (Collective c : group) {
                futures.add(pool.submit(() -> {
                    try (PolyVObjective obj = PolyVObjective.open(TINY_A, TrainStage.STAGE_2_1, "cpu")) {
                        TrainDataset train = data(data.resolve("rank" + c.rank()));
                        Trainer t = new Trainer(obj, train, null, options(steps, saveEvery), out, c);
                        CheckpointStore.Loaded from = resume == null ? null : t.loadResume(resume);
                        Trainer.Result r = t.run(from, (rec, tokens, nanos) -> { });
                        return new Run(r.history(), obj.params().stream().map(p -> p.value().clone()).toList());
                    }
                }));
            }
            List<Run> out2 = new ArrayList<>();
            for (Future<Run> f : futures) out2.add(f.get(5, TimeUnit.MINUTES));
            return out2;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoRanksFollowTheOneProcessLossCurveAndStayIdentical() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("d/rank0"));
        java.nio.file.Files.createDirectories(tmp.resolve("d/rank1"));
        Run one = train(1, tmp.resolve("d"), tmp.resolve("one"), 4, 100, null).getFirst();
        List<Run> two = train(2, tmp.resolve("d"), tmp.resolve("two"), 4, 100, null);
        assertEquals(4, one.history().size());
        double worst = 0;
        for (int s = 0; s < 4; s++) {
            StepRecord a = one.history().get(s), b = two.get(0).history().get(s);
            worst = Math.max(worst, Math.abs(a.total() - b.total()) / Math.abs(a.total()));
            assertEquals(a.total(), b.total(), 1e-6 * Math.abs(a.total()), "step " + (s + 1) + " total loss");
            assertEquals(a.ce(), b.ce(), 1e-6 * Math.abs(a.ce()), "step " + (s + 1) + " ce");
            assertEquals(a.tokens(), b.tokens(), "step " + (s + 1) + " label tokens");
            // both ranks saw the same summed losses and took the same step: identical bits
            assertEquals(b.total(), two.get(1).history().get(s).total(), 0);
            assertEquals(b.gradNorm(), two.get(1).history().get(s).gradNorm(), 0);
        }
        System.out.printf("1 process vs 2 ranks: largest relative difference of the total loss over 4 steps %.3g%n", worst);
        for (int i = 0; i < one.params().size(); i++) {
            assertArrayEquals(two.get(0).params().get(i), two.get(1).params().get(i), "parameter " + i + ": the ranks agree bit for bit");
            float[] a = one.params().get(i), b = two.get(0).params().get(i);
            for (int k = 0; k < a.length; k++) assertEquals(a[k], b[k], 1e-5f + 1e-5f * Math.abs(a[k]), "parameter " + i + "[" + k + "]");
        }
    }

    @Test
    void aResumedTwoRankRunEqualsTheUninterruptedOneBitForBit() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("d/rank0"));
        java.nio.file.Files.createDirectories(tmp.resolve("d/rank1"));
        // the whole run saves at steps 2 and 3; the resumed one starts from its step-2 checkpoint in another folder
        List<Run> whole = train(2, tmp.resolve("d"), tmp.resolve("whole"), 3, 2, null);
        List<Run> resumed = train(2, tmp.resolve("d"), tmp.resolve("resumed"), 3, 2, tmp.resolve("whole/checkpoints/step-00000002"));
        assertTrue(resumed.get(0).history().size() == 3, "the resumed curve carries the first 2 steps");
        for (int s = 0; s < 3; s++) assertEquals(whole.get(0).history().get(s).total(), resumed.get(0).history().get(s).total(), 0, "step " + (s + 1));
        for (int i = 0; i < whole.get(0).params().size(); i++) {
            assertArrayEquals(whole.get(0).params().get(i), resumed.get(1).params().get(i), "parameter " + i);
        }
    }
}

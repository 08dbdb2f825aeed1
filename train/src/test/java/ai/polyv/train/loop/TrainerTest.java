package ai.polyv.train.loop;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.StepLosses;
import ai.polyv.train.TrainExample;
import ai.polyv.train.TrainStage;
import ai.polyv.train.TrainingObjective;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.data.TrainDataWriter;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.data.TrainRow;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop's arithmetic by hand: one scalar parameter, loss (p - L)^2 per row of length L. */
class TrainerTest {
    static final PolyVConfig CONFIG = PolyVConfig.load(SharedData.golden("tiny-a"));

    /** {@code p} in a router's name so that stage 2-1 trains it. */
    static final class Scalar implements TrainingObjective {
        final Param p = Param.zeroGrad("model.layers.0.mlp.gate.weight", new long[] {1}, new float[] {0});
        float nextLoss = Float.NaN;

        @Override
        public List<Param> params() {
            return List.of(p);
        }

        @Override
        public StepLosses forwardBackward(TrainExample e) {
            float err = p.value()[0] - e.inputIds().length;
            p.grad()[0] += 2 * err;
            double loss = (double) err * err;
            return new StepLosses(loss, 0, 0, 0, Float.isNaN(nextLoss) ? loss : nextLoss, 1);
        }
    }

    static TrainDataset data(Path dir) {
        Path f = dir.resolve("d.arrow");
        TrainDataWriter.write(f, List.of(TrainRow.text(new int[] {1, 2}, new int[] {-100, 2}),
                TrainRow.text(new int[] {1, 2, 3, 4}, new int[] {-100, 2, 3, 4})));
        return TrainDataset.open(f, CONFIG, new VisionPreprocessor());
    }

    @Test
    void batchedStepAveragesGradientsThenAdamW(@TempDir Path dir) {
        Scalar obj = new Scalar();
        // 6 batch tokens: both rows (2 + 4 tokens) in every step; constant rate 0.1, no warm-up, no decay, no clipping
        TrainOptions o = new TrainOptions(TrainStage.STAGE_2_1, 2, 0.1, "constant", 0, 0, 0, 6, 5, 1, 0, 1);
        List<StepRecord> h = new Trainer(obj, data(dir), null, o, dir.resolve("out")).run(null, (r, t, n) -> { }).history();
        assertEquals(2, h.size());
        StepRecord s1 = h.getFirst();
        assertEquals(10.0, s1.ce(), 0);        // ((0-2)^2 + (0-4)^2) / 2
        assertEquals(6.0, s1.gradNorm(), 0);   // |(2(0-2) + 2(0-4)) / 2|
        assertEquals(2, s1.tokens());
        assertEquals(0.1, s1.lr(), 0);
        // step 1: m = -0.6, v = 0.036; p = 0 - (0.1/0.1) * (-0.6) / (sqrt(0.036)/sqrt(0.001) + 1e-8) = 0.1
        // step 2: g = 2(0.1-2) + 2(0.1-4) averaged = -5.8; m = 0.9(-0.6) + 0.1(-5.8) = -1.12; v = 0.999(0.036) + 0.001(33.64)
        double m = -1.12, v = 0.999 * 0.036 + 0.001 * 33.64;
        double p2 = 0.1 - (0.1 / (1 - 0.81)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.998001) + 1e-8);
        assertEquals(p2, obj.p.value()[0], 2e-6);
        assertEquals(((0.1 - 2) * (0.1 - 2) + (0.1 - 4) * (0.1 - 4)) / 2, h.get(1).ce(), 1e-5);
        assertEquals(0f, obj.p.grad()[0]); // zeroed by the optimizer
    }

    @Test
    void nonFiniteLossStopsNamingTheStep(@TempDir Path dir) {
        Scalar obj = new Scalar();
        obj.nextLoss = Float.POSITIVE_INFINITY;
        TrainOptions o = new TrainOptions(TrainStage.STAGE_2_1, 3, 0.1, "cosine", 0, 0, 1, 0, 5, 1, 0, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Trainer(obj, data(dir), null, o, dir.resolve("out")).run(null, (r, t, n) -> { }));
        assertTrue(e.getMessage().startsWith("step 1: the loss is Infinity (examples ["), e.getMessage());
    }
}

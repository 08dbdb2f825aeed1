package ai.polyv.core.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static float[] logProbs(double... p) {
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) out[i] = (float) Math.log(p[i]);
        return out;
    }

    private static double[] frequencies(SamplingOptions o, float[] logits, int draws) {
        Sampler s = Sampler.of(o);
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) f[s.sample(logits)] += 1.0 / draws;
        return f;
    }

    @Test
    void greedyTakesArgmaxLowerIdOnTies() {
        assertEquals(2, Sampler.of(SamplingOptions.GREEDY).sample(new float[] {1, -3, 7, 7, 2}));
        assertEquals(0, Sampler.of(SamplingOptions.GREEDY).sample(new float[] {-1, -1}));
        assertThrows(IllegalStateException.class, () -> Sampler.of(SamplingOptions.GREEDY).sample(new float[] {0, Float.NaN}));
    }

    @Test
    void temperatureOneFollowsTheDistribution() {
        double[] f = frequencies(new SamplingOptions(1.0, 0, 1.0, 42), logProbs(0.5, 0.3, 0.2), 40_000);
        assertEquals(0.5, f[0], 0.015);
        assertEquals(0.3, f[1], 0.015);
        assertEquals(0.2, f[2], 0.015);
    }

    @Test
    void temperatureSharpens() {
        // T = 0.5 squares the probabilities: 0.25, 0.09, 0.04 normalised
        double[] f = frequencies(new SamplingOptions(0.5, 0, 1.0, 3), logProbs(0.5, 0.3, 0.2), 40_000);
        assertEquals(0.25 / 0.38, f[0], 0.015);
        assertEquals(0.09 / 0.38, f[1], 0.015);
        assertEquals(0.04 / 0.38, f[2], 0.015);
    }

    @Test
    void topPAndTopKTruncate() {
        // 0.5 < 0.6 <= 0.8: tokens 0 and 1 kept, renormalised 0.625 / 0.375
        double[] f = frequencies(new SamplingOptions(1.0, 0, 0.6, 5), logProbs(0.5, 0.3, 0.2), 40_000);
        assertEquals(0.625, f[0], 0.015);
        assertEquals(0.375, f[1], 0.015);
        assertEquals(0.0, f[2], 0);
        double[] k = frequencies(new SamplingOptions(1.0, 2, 1.0, 6), logProbs(0.2, 0.5, 0.3), 40_000);
        assertEquals(0.0, k[0], 0);
        assertEquals(0.625, k[1], 0.015);
        assertEquals(0.375, k[2], 0.015);
        // top-k 1 is greedy whatever the seed; ties go to the lower id
        assertEquals(1, Sampler.of(new SamplingOptions(2.0, 1, 1.0, 99)).sample(new float[] {0, 3, 3, -1}));
        // top-p tiny keeps the single most likely token
        assertEquals(3, Sampler.of(new SamplingOptions(1.0, 0, 1e-9, 1)).sample(new float[] {0, 1, 2, 5}));
    }

    @Test
    void seedReproducesAndDiffers() {
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i * 0.37) * 3;
        int[] a = draw(new SamplingOptions(0.8, 50, 0.95, 1234), logits);
        int[] b = draw(new SamplingOptions(0.8, 50, 0.95, 1234), logits);
        int[] c = draw(new SamplingOptions(0.8, 50, 0.95, 1235), logits);
        assertEquals(Arrays.toString(a), Arrays.toString(b));
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
        for (int id : a) assertTrue(Math.sin(id * 0.37) * 3 > 2.0, "sampled id " + id + " is not among the 50 most likely");
    }

    private static int[] draw(SamplingOptions o, float[] logits) {
        Sampler s = Sampler.of(o);
        int[] out = new int[64];
        for (int i = 0; i < out.length; i++) out[i] = s.sample(logits);
        return out;
    }

    @Test
    void rejectsBadOptions() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(1, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(1, 0, 0, 0));
        assertTrue(StopTokens.of(5, 9).isStop(9));
    }
}

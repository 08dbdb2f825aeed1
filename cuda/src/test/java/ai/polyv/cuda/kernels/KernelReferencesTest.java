package ai.polyv.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

import ai.polyv.core.backend.ReferenceOps;
import ai.polyv.core.model.MoeRouter;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;

class KernelReferencesTest {

    static float[] random(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    static Tensor t(float[] d, long... shape) {
        return new Tensor(DType.F32, MemorySegment.ofArray(d), shape);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(1.0f, KernelReferences.bf16(1.0f));
        // 1 + 2^-8 lies exactly between 1 and 1 + 2^-7: ties to even -> 1
        assertEquals(1.0f, KernelReferences.bf16(1.0f + 0x1p-8f));
        // 1 + 3 * 2^-8 lies between 1 + 2^-7 and 1 + 2^-6: ties to even -> 1 + 2^-6
        assertEquals(1.0f + 0x1p-6f, KernelReferences.bf16(1.0f + 3 * 0x1p-8f));
        assertEquals(-3.140625f, KernelReferences.bf16(-3.1415927f));
    }

    /**
     * The fused-expert reference (entry order, stacked weights, router weight in the down epilogue, then
     * the combine through the inverse map) equals the model's stage-by-stage path written with
     * ReferenceOps (gather -> matmul -> siluMul -> matmul -> scatterAddScaled, experts ascending).
     * 7 tokens (prime), hidden 24, ffn 16, 5 experts, top-2, expert 4 forced empty.
     */
    @Test
    void expertFfnFromPermutedEntriesMatchesTheStagePipeline() {
        Random rnd = new Random(7);
        int tokens = 7, hidden = 24, ffn = 16, m = 5, k = 2;
        float[] x = random(rnd, tokens * hidden, 1f);
        float[] gate = random(rnd, m * hidden, 1f);
        for (int h = 0; h < hidden; h++) gate[4 * hidden + h] = -50f * Math.abs(gate[4 * hidden + h]) - 50f; // x >= 0 below, so expert 4 always loses
        for (int t = 0; t < tokens; t++) for (int h = 0; h < hidden; h++) x[t * hidden + h] = Math.abs(x[t * hidden + h]);
        float[] gw = random(rnd, m * ffn * hidden, .2f), uw = random(rnd, m * ffn * hidden, .2f), dw = random(rnd, m * hidden * ffn, .2f);

        MoeRouter.Routing r = KernelReferences.router(x, gate, tokens, hidden, m, k, false);
        TokenPermutation perm = TokenPermutation.of(tokens, k, m, r.ids(), r.weights());
        assertEquals(0, perm.count(4), "expert 4 should be empty");
        int[] pos = TokenPermutation.positions(tokens, k, m, r.ids());

        float[] h = KernelReferences.expertGateUp(x, perm.tokens(), gw, uw, perm.offsets(), hidden, ffn, false);
        float[] y = KernelReferences.expertDown(h, dw, perm.offsets(), perm.weights(), hidden, ffn);
        float[] fused = KernelReferences.combine(y, pos, null, tokens, k, hidden);

        float[] expected = new float[tokens * hidden];
        Tensor out = t(expected, tokens, hidden);
        for (int e = 0; e < m; e++) {
            int c = perm.count(e);
            if (c == 0) continue;
            float[] xe = new float[c * hidden], g = new float[c * ffn], u = new float[c * ffn], he = new float[c * ffn], ye = new float[c * hidden];
            ReferenceOps.gatherRows(t(x, tokens, hidden), perm.tokensOf(e), t(xe, c, hidden));
            float[] ge = java.util.Arrays.copyOfRange(gw, e * ffn * hidden, (e + 1) * ffn * hidden);
            float[] ue = java.util.Arrays.copyOfRange(uw, e * ffn * hidden, (e + 1) * ffn * hidden);
            float[] de = java.util.Arrays.copyOfRange(dw, e * hidden * ffn, (e + 1) * hidden * ffn);
            ReferenceOps.matmul(t(xe, c, hidden), t(ge, ffn, hidden), null, t(g, c, ffn));
            ReferenceOps.matmul(t(xe, c, hidden), t(ue, ffn, hidden), null, t(u, c, ffn));
            ReferenceOps.siluMul(t(g, c, ffn), t(u, c, ffn), t(he, c, ffn));
            ReferenceOps.matmul(t(he, c, ffn), t(de, hidden, ffn), null, t(ye, c, hidden));
            ReferenceOps.scatterAddScaled(t(ye, c, hidden), perm.tokensOf(e), perm.weightsOf(e), out);
        }
        assertArrayEquals(expected, fused, 1e-4f);

        // Router weight in the combine instead of the down epilogue: same result.
        float[] yUnscaled = KernelReferences.expertDown(h, dw, perm.offsets(), null, hidden, ffn);
        assertArrayEquals(expected, KernelReferences.combine(yUnscaled, pos, r.weights(), tokens, k, hidden), 1e-4f);

        // Reading x through permToken (aRows) equals reading the gathered copy.
        float[] xPerm = new float[tokens * k * hidden];
        ReferenceOps.gatherRows(t(x, tokens, hidden), perm.tokens(), t(xPerm, tokens * k, hidden));
        assertArrayEquals(h, KernelReferences.expertGateUp(xPerm, null, gw, uw, perm.offsets(), hidden, ffn, false));
    }

    @Test
    void routerStatsRowsAreProbabilitySumsAndArgmaxCounts() {
        float[] x = {1f, 0f, 0f, 1f, 1f, 1f};            // 3 tokens, hidden 2
        float[] gate = {2f, 0f, 0f, 1f, 0f, 0f};         // 3 experts
        MoeRouter.Routing r = KernelReferences.router(x, gate, 3, 2, 3, 2, false);
        // logits: t0 [2,0,0], t1 [0,1,0], t2 [2,1,0]
        assertArrayEquals(new float[] {2, 0, 0, 0, 1, 0, 2, 1, 0}, r.logits());
        assertArrayEquals(new int[] {0, 1, 1, 0, 0, 1}, r.ids()); // t0: 0 then 1 (tie 1 vs 2 -> lower); t1: 1 then 0
        float[] s = KernelReferences.routerStats(r);
        double e2 = Math.exp(2), e1 = Math.E;
        double p00 = e2 / (e2 + 2), p01 = 1 / (e2 + 2), p10 = 1 / (e1 + 2), p11 = e1 / (e1 + 2);
        double p20 = e2 / (e2 + e1 + 1), p21 = e1 / (e2 + e1 + 1), p22 = 1 / (e2 + e1 + 1);
        assertArrayEquals(new float[] {(float) (p00 + p10 + p20), (float) (p01 + p11 + p21), (float) (p01 + p10 + p22), 2, 1, 0},
                s, 1e-6f);
    }
}

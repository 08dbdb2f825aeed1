package ai.polyv.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LoadBalanceTest {

    @Test
    void handComputedStatisticsAndAuxLoss() {
        // 3 tokens, 2 experts. Logits chosen so that p is exact: [0, ln3] -> [.25, .75], [ln4, 0] -> [.8, .2],
        // [0, ln9] -> [.1, .9]. Argmax: 1, 0, 1.
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(4), 0f, 0f, (float) Math.log(9)};
        MoeRouter.Routing r = new MoeRouter.Routing(3, 1, 2, logits, new int[] {1, 0, 1}, new float[] {.75f, .8f, .9f});
        LoadBalance lb = LoadBalance.of(r);
        assertArrayEquals(new long[] {1, 2}, lb.top1Counts());
        assertArrayEquals(new double[] {1.15, 1.85}, lb.probSums(), 1e-6);
        assertArrayEquals(new double[] {1.0 / 3, 2.0 / 3}, lb.fractionTop1(), 1e-12);
        assertArrayEquals(new double[] {1.15 / 3, 1.85 / 3}, lb.meanProb(), 1e-6);
        // L = M * sum F_i G_i = 2 * (1/3 * 1.15/3 + 2/3 * 1.85/3) = 2 * 4.85 / 9
        assertEquals(2 * 4.85 / 9, lb.auxLoss(), 1e-6);
    }

    @Test
    void perfectlyBalancedRouterHasAuxLossOne() {
        // 4 tokens, 4 experts, uniform logits except a small bump selecting expert t for token t
        int n = 4, m = 4;
        float[] logits = new float[n * m];
        int[] ids = new int[n];
        for (int t = 0; t < n; t++) {
            logits[t * m + t] = 1e-3f;
            ids[t] = t;
        }
        LoadBalance lb = LoadBalance.of(new MoeRouter.Routing(n, 1, m, logits, ids, new float[n]));
        assertArrayEquals(new long[] {1, 1, 1, 1}, lb.top1Counts());
        assertEquals(1.0, lb.auxLoss(), 1e-6);
    }
}

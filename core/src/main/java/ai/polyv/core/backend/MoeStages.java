package ai.polyv.core.backend;

import ai.polyv.core.tensor.Tensor;

/** The MoE stages 2-4 as separate backend ops: the reference path of {@link Backend#moeExperts}. */
public final class MoeStages {
    private MoeStages() {}

    /**
     * Permutation ({@link TokenPermutation}: experts ascending, stable by token) -> per expert: gather
     * its rows, SwiGLU ({@code gate, up} matmuls, {@code siluMul}, {@code down} matmul) -> weighted
     * combine ({@code scatterAddScaled} into the zeroed {@code out}, experts in ascending order).
     */
    public static void expertLoop(Backend be, Tensor x, int k, int[] ids, float[] weights, ExpertWeights w, Tensor out) {
        int n = x.rows(), hidden = x.cols(), ffn = w.ffn();
        if (ids.length != n * k || weights.length != n * k) {
            throw new IllegalArgumentException("moeExperts: routing of " + ids.length + " ids and " + weights.length
                    + " weights for " + n + " tokens x k=" + k);
        }
        TokenPermutation perm = TokenPermutation.of(n, k, w.numExperts(), ids, weights);   // stage 2
        be.fill(out, 0f);
        for (int e = 0; e < perm.numExperts(); e++) {
            int c = perm.count(e);
            if (c == 0) continue;
            int[] rows = perm.tokensOf(e);
            try (Workspace ws = be.workspace()) {
                Tensor xe = ws.f32(c, hidden), ye = ws.f32(c, out.cols());        // [c, hidden]
                Tensor g = ws.f32(c, ffn), u = ws.f32(c, ffn);                    // [c, ffn]
                be.gatherRows(x, rows, xe);
                be.matmul(xe, w.gate().get(e), null, g);                          // stage 3: expert e's SwiGLU
                be.matmul(xe, w.up().get(e), null, u);
                be.siluMul(g, u, g);
                be.matmul(g, w.down().get(e), null, ye);
                be.scatterAddScaled(ye, rows, perm.weightsOf(e), out);           // stage 4: weighted combine
            }
        }
    }
}

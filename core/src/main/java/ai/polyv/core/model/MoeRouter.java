package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;

/**
 * MoE stage 1, the router: {@code logits = x . gate^T}, {@code p = softmax(logits)} in float32, top-k
 * descending with ties to the lower expert index, optional renormalisation ({@code norm_topk_prob}).
 */
public final class MoeRouter {

    /**
     * Routing of n tokens.
     *
     * @param logits  {@code [n, M]} router logits
     * @param ids     {@code [n, k]} chosen experts, best first
     * @param weights {@code [n, k]} their weights
     */
    public record Routing(int n, int k, int numExperts, float[] logits, int[] ids, float[] weights) {}

    private MoeRouter() {}

    /** {@code x [n, hidden]}, {@code gate [M, hidden]}. */
    public static Routing route(Backend be, Tensor x, Tensor gate, int k, boolean renormalize) {
        int n = x.rows(), m = gate.rows();
        try (Workspace ws = be.workspace()) {
            Tensor logits = ws.f32(n, m);
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            be.moeRoute(x, gate, k, renormalize, logits, ids, w);   // router GEMM + softmax + top-k
            return new Routing(n, k, m, be.download(logits), ids, w);
        }
    }
}

package ai.polyv.runtime.model;

import ai.polyv.runtime.backend.Backend;
import ai.polyv.runtime.backend.Workspace;
import ai.polyv.runtime.tensor.Tensor;

/**
 * The sparse MoE FFN as a pipeline of named stages: {@link MoeRouter} -> {@link TokenPermutation} ->
 * experts (each a SwiGLU over its gathered rows) -> weighted combine (scatter-add of
 * {@code weight * expert(x)} into the output, experts in ascending order).
 */
final class MoeLayer {
    private MoeLayer() {}

    /** {@code x [n, hidden]} -> {@code out [n, hidden]} (overwritten); returns the routing. */
    static MoeRouter.Routing forward(Backend be, ModelWeights.MoeWeights w, ModelDims.Moe cfg, Tensor x, Tensor out) {
        MoeRouter.Routing r = MoeRouter.route(be, x, w.router(), cfg.topK(), cfg.normTopkProb());
        TokenPermutation perm = TokenPermutation.of(r.n(), r.k(), r.numExperts(), r.ids(), r.weights());
        be.fill(out, 0f);
        for (int e = 0; e < perm.numExperts(); e++) {
            int c = perm.count(e);
            if (c == 0) continue;
            int[] rows = perm.tokensOf(e);
            try (Workspace ws = be.workspace()) {
                Tensor xe = ws.f32(c, x.cols()), ye = ws.f32(c, out.cols());  // [c, hidden]
                be.gatherRows(x, rows, xe);
                Mlp.swiglu(be, w.experts().get(e), xe, ye);
                be.scatterAddScaled(ye, rows, perm.weightsOf(e), out);
            }
        }
        return r;
    }
}

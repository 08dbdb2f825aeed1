package ai.polyv.core.model;

import ai.polyv.core.backend.TokenPermutation;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.layout.WeightLayout;
import java.util.List;

/**
 * The sparse MoE FFN as a pipeline of named stages: {@link MoeRouter} (stage 1, {@link Backend#moeRoute})
 * -> {@link TokenPermutation} -> experts (each a SwiGLU over its gathered rows) -> weighted combine
 * (scatter-add of {@code weight * expert(x)} into the output, experts in ascending order); stages 2-4
 * are {@link Backend#moeExperts} (the CPU backend runs them one by one, {@code MoeStages.expertLoop};
 * the CUDA backend fuses them in token_permutation.cu + expert_ffn.cu).
 */
final class MoeLayer {
    private MoeLayer() {}

    /** {@code x [n, hidden]} -> {@code out [n, hidden]} (overwritten); returns the routing. */
    static MoeRouter.Routing forward(Backend be, WeightLayout.Moe<Tensor, Tensor> w, ModelDims.Moe cfg, Tensor x, Tensor out) {
        MoeRouter.Routing r = MoeRouter.route(be, x, w.router(), cfg.topK(), cfg.normTopkProb());
        be.moeExperts(x, r.k(), r.ids(), r.weights(), experts(w), out);
        return r;
    }

    static ExpertWeights experts(WeightLayout.Moe<Tensor, Tensor> w) {
        List<WeightLayout.SwiGlu<Tensor, Tensor>> es = w.experts();
        return new ExpertWeights(es.stream().map(e -> e.gate().weight()).toList(), es.stream().map(e -> e.up().weight()).toList(),
                es.stream().map(e -> e.down().weight()).toList());
    }
}

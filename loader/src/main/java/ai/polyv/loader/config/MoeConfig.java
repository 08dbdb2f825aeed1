package ai.polyv.loader.config;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * PolyV's sparse MoE FFN ({@code moe.*}); absent in config.json means a dense model.
 *
 * @param layers       decoder layers whose MLP is an MoE block (unique, checked against num_hidden_layers)
 * @param numExperts   experts per MoE layer M
 * @param topK         experts per token k, 1 <= k <= M
 * @param normTopkProb renormalise the top-k probabilities (paper: false)
 * @param auxLossCoef  load-balancing loss weight (paper: 0.01)
 */
public record MoeConfig(int[] layers, int numExperts, int topK, boolean normTopkProb, double auxLossCoef) {
    public MoeConfig {
        ConfigException.require(layers != null, "moe.layers", "an array of layer indexes", "nothing");
        layers = layers.clone();
        ConfigException.require(numExperts >= 1, "moe.num_experts", "a positive integer", numExperts);
        ConfigException.require(topK >= 1 && topK <= numExperts, "moe.top_k",
                "an integer in [1, num_experts=" + numExperts + "]", topK);
        ConfigException.require(auxLossCoef >= 0 && Double.isFinite(auxLossCoef), "moe.aux_loss_coef",
                "a non-negative number", auxLossCoef);
        Set<Integer> seen = new HashSet<>();
        for (int l : layers) {
            ConfigException.require(l >= 0, "moe.layers", "non-negative layer indexes", Arrays.toString(layers));
            ConfigException.require(seen.add(l), "moe.layers", "unique layer indexes", Arrays.toString(layers));
        }
    }

    /** The PolyV-7B setting: layers 0,4,...,24, 4 experts, top-2, raw softmax weights, aux 0.01. */
    public static MoeConfig polyv7b() {
        return new MoeConfig(new int[] {0, 4, 8, 12, 16, 20, 24}, 4, 2, false, 0.01);
    }

    public boolean isMoeLayer(int layer) {
        for (int l : layers) {
            if (l == layer) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int[] layers() {
        return layers.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MoeConfig m && Arrays.equals(layers, m.layers) && numExperts == m.numExperts
                && topK == m.topK && normTopkProb == m.normTopkProb && Double.compare(auxLossCoef, m.auxLossCoef) == 0;
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(layers) * 31 + numExperts) * 31 + topK;
    }

    @Override
    public String toString() {
        return "MoeConfig[layers=" + Arrays.toString(layers) + ", numExperts=" + numExperts + ", topK=" + topK
                + ", normTopkProb=" + normTopkProb + ", auxLossCoef=" + auxLossCoef + "]";
    }
}

package ai.polyv.train.upcycle;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What {@code polyv upcycle} builds.
 *
 * @param base          dense Qwen2.5-VL checkpoint folder (config.json + safetensors, single or sharded)
 * @param donors        modality-specialised dense checkpoints of the same shapes; donor {@code i} gives expert
 *                      {@code i + 1}; at most {@code experts - 1}
 * @param moeLayers     decoder layers whose dense FFN becomes an MoE block
 * @param experts       experts per MoE layer (>= 1)
 * @param topK          experts per token, in [1, experts]
 * @param normTopkProb  renormalise the top-k router weights (config {@code moe.norm_topk_prob})
 * @param auxLossCoef   load-balancing loss weight (config {@code moe.aux_loss_coef})
 * @param seed          seed of every initialised tensor (routers, synergy heads)
 * @param routerStd     router weights ~ normal(0, routerStd)
 * @param synergyHeads  sizes of new synergy heads to initialise, or null for none
 * @param headStd       synergy head weights ~ normal(0, headStd) (biases 0)
 * @param position3d    add the {@code position_3d} config object (sincos, base 10000) if the base has none
 * @param maxShardBytes most data bytes per output shard
 */
public record UpcycleOptions(Path base, List<Path> donors, int[] moeLayers, int experts, int topK, boolean normTopkProb,
                             double auxLossCoef, long seed, double routerStd, SynergyHeads synergyHeads, double headStd,
                             boolean position3d, long maxShardBytes) {

    /**
     * Synergy heads to add. A null field takes its default: token id from the base config's {@code synergy}
     * object, else {@code vocab_size - 1}; sizes from the base config's {@code synergy.heads}, else hidden =
     * decoder width, temporal out 1024 (V-JEPA 2 features), spatial out 2048 (VGGT features).
     */
    public record SynergyHeads(Integer tokenId, Integer hiddenSize, Integer temporalOut, Integer spatialOut) {}

    /** The paper's defaults for everything but the folders and layers. */
    public static UpcycleOptions of(Path base, List<Path> donors, int[] moeLayers, int experts) {
        return new UpcycleOptions(base, donors, moeLayers, experts, Math.min(2, experts), false, 0.01, 0L, 0.02,
                null, 0.02, true, 5_000_000_000L);
    }

    public UpcycleOptions {
        Objects.requireNonNull(base, "base");
        donors = List.copyOf(donors);
        moeLayers = moeLayers.clone();
    }

    @Override
    public int[] moeLayers() {
        return moeLayers.clone();
    }

    public UpcycleOptions withTopK(int k, boolean norm) {
        return new UpcycleOptions(base, donors, moeLayers, experts, k, norm, auxLossCoef, seed, routerStd, synergyHeads,
                headStd, position3d, maxShardBytes);
    }

    public UpcycleOptions withRouter(long newSeed, double std) {
        return new UpcycleOptions(base, donors, moeLayers, experts, topK, normTopkProb, auxLossCoef, newSeed, std,
                synergyHeads, headStd, position3d, maxShardBytes);
    }

    public UpcycleOptions withSynergyHeads(SynergyHeads heads) {
        return new UpcycleOptions(base, donors, moeLayers, experts, topK, normTopkProb, auxLossCoef, seed, routerStd,
                heads, headStd, position3d, maxShardBytes);
    }

    public UpcycleOptions withMaxShardBytes(long bytes) {
        return new UpcycleOptions(base, donors, moeLayers, experts, topK, normTopkProb, auxLossCoef, seed, routerStd,
                synergyHeads, headStd, position3d, bytes);
    }

    @Override
    public String toString() {
        return "UpcycleOptions[base=" + base + ", donors=" + donors + ", moeLayers=" + Arrays.toString(moeLayers)
                + ", experts=" + experts + ", topK=" + topK + ", normTopkProb=" + normTopkProb + ", seed=" + seed
                + ", routerStd=" + routerStd + ", synergyHeads=" + synergyHeads + "]";
    }
}

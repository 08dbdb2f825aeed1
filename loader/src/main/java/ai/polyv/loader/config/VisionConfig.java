package ai.polyv.loader.config;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The Qwen2.5-VL vision encoder's hyper-parameters ({@code vision_config.*}; defaults are Qwen2.5-VL-7B's).
 *
 * @param depth               blocks (32)
 * @param hiddenSize          block width (1280)
 * @param intermediateSize    block MLP width (3420)
 * @param numHeads            attention heads (16)
 * @param outHiddenSize       merger output width = the decoder's hidden_size (3584)
 * @param patchSize           patch side in pixels (14)
 * @param spatialMergeSize    patches merged per side by the merger (2)
 * @param temporalPatchSize   frames per patch (2)
 * @param windowSize          window side in pixels (112), a multiple of patchSize * spatialMergeSize
 * @param fullattBlockIndexes blocks with full (per-frame) attention ([7, 15, 23, 31])
 * @param tokensPerSecond     temporal position step per second of video (2)
 * @param inChans             image channels (3; hub key {@code in_chans} or {@code in_channels})
 * @param hiddenAct           MLP activation (only "silu")
 */
public record VisionConfig(int depth, int hiddenSize, int intermediateSize, int numHeads, int outHiddenSize,
                           int patchSize, int spatialMergeSize, int temporalPatchSize, int windowSize,
                           int[] fullattBlockIndexes, int tokensPerSecond, int inChans, String hiddenAct) {
    public VisionConfig {
        String p = "vision_config.";
        ConfigException.require(depth > 0, p + "depth", "a positive integer", depth);
        ConfigException.require(hiddenSize > 0, p + "hidden_size", "a positive integer", hiddenSize);
        ConfigException.require(intermediateSize > 0, p + "intermediate_size", "a positive integer", intermediateSize);
        ConfigException.require(numHeads > 0, p + "num_heads", "a positive integer", numHeads);
        ConfigException.require(outHiddenSize > 0, p + "out_hidden_size", "a positive integer", outHiddenSize);
        ConfigException.require(patchSize > 0, p + "patch_size", "a positive integer", patchSize);
        ConfigException.require(spatialMergeSize > 0, p + "spatial_merge_size", "a positive integer", spatialMergeSize);
        ConfigException.require(temporalPatchSize > 0, p + "temporal_patch_size", "a positive integer", temporalPatchSize);
        ConfigException.require(tokensPerSecond > 0, p + "tokens_per_second", "a positive integer", tokensPerSecond);
        ConfigException.require(inChans > 0, p + "in_chans", "a positive integer", inChans);
        ConfigException.require(hiddenSize % numHeads == 0, p + "num_heads", "a divisor of vision_config.hidden_size "
                + hiddenSize, numHeads);
        int headDim = hiddenSize / numHeads;
        ConfigException.require(headDim % 4 == 0, p + "num_heads",
                "a head count giving a head_dim divisible by 4 (2D rotary embedding)", numHeads + " (head_dim " + headDim + ")");
        int unit = patchSize * spatialMergeSize;
        ConfigException.require(windowSize > 0 && windowSize % unit == 0, p + "window_size",
                "a positive multiple of patch_size*spatial_merge_size = " + unit, windowSize);
        ConfigException.require(fullattBlockIndexes != null, p + "fullatt_block_indexes", "an array", "nothing");
        fullattBlockIndexes = fullattBlockIndexes.clone();
        Set<Integer> seen = new HashSet<>();
        for (int i : fullattBlockIndexes) {
            ConfigException.require(i >= 0 && i < depth, p + "fullatt_block_indexes",
                    "block indexes in [0, depth=" + depth + ")", Arrays.toString(fullattBlockIndexes));
            ConfigException.require(seen.add(i), p + "fullatt_block_indexes", "unique block indexes",
                    Arrays.toString(fullattBlockIndexes));
        }
        ConfigException.require("silu".equals(hiddenAct), p + "hidden_act", "\"silu\"", hiddenAct);
    }

    /** Qwen2.5-VL-7B's vision encoder, the default for absent keys. */
    public static VisionConfig qwen25vl7b() {
        return new VisionConfig(32, 1280, 3420, 16, 3584, 14, 2, 2, 112, new int[] {7, 15, 23, 31}, 2, 3, "silu");
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Patches per merged token: spatialMergeSize^2. */
    public int mergeUnit() {
        return spatialMergeSize * spatialMergeSize;
    }

    /** Width of one patchified input row: inChans * temporalPatchSize * patchSize^2 (1176 for 7B). */
    public int patchInputWidth() {
        return inChans * temporalPatchSize * patchSize * patchSize;
    }

    /** Merged units per window side: windowSize / patchSize / spatialMergeSize. */
    public int windowMergedSide() {
        return windowSize / patchSize / spatialMergeSize;
    }

    public boolean isFullAttention(int block) {
        for (int i : fullattBlockIndexes) {
            if (i == block) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int[] fullattBlockIndexes() {
        return fullattBlockIndexes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VisionConfig v && depth == v.depth && hiddenSize == v.hiddenSize
                && intermediateSize == v.intermediateSize && numHeads == v.numHeads && outHiddenSize == v.outHiddenSize
                && patchSize == v.patchSize && spatialMergeSize == v.spatialMergeSize
                && temporalPatchSize == v.temporalPatchSize && windowSize == v.windowSize
                && Arrays.equals(fullattBlockIndexes, v.fullattBlockIndexes) && tokensPerSecond == v.tokensPerSecond
                && inChans == v.inChans && hiddenAct.equals(v.hiddenAct);
    }

    @Override
    public int hashCode() {
        return ((depth * 31 + hiddenSize) * 31 + outHiddenSize) * 31 + Arrays.hashCode(fullattBlockIndexes);
    }

    @Override
    public String toString() {
        return "VisionConfig[depth=" + depth + ", hiddenSize=" + hiddenSize + ", intermediateSize=" + intermediateSize
                + ", numHeads=" + numHeads + ", headDim=" + headDim() + ", outHiddenSize=" + outHiddenSize
                + ", patchSize=" + patchSize + ", spatialMergeSize=" + spatialMergeSize + ", temporalPatchSize="
                + temporalPatchSize + ", windowSize=" + windowSize + ", fullattBlockIndexes="
                + Arrays.toString(fullattBlockIndexes) + ", tokensPerSecond=" + tokensPerSecond + ", inChans=" + inChans
                + ", hiddenAct=" + hiddenAct + "]";
    }
}

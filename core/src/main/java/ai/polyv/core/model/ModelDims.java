package ai.polyv.core.model;

import java.util.Arrays;

/**
 * The sizes and constants the forward pass uses, taken once from {@code PolyVConfig} (so model code
 * and tests depend on this one small record).
 */
public record ModelDims(Text text, Vision vision, Moe moe, Tokens tokens) {

    /** Decoder. {@code mropeSection} [t, h, w] splits the head_dim/2 frequencies. */
    public record Text(int hidden, int layers, int heads, int kvHeads, int headDim, int vocab, float rmsNormEps,
                       double ropeTheta, int[] mropeSection, int maxPositions, boolean tieWordEmbeddings) {
        public Text {
            if (heads % kvHeads != 0) throw new IllegalArgumentException("num_attention_heads " + heads + " not a multiple of num_key_value_heads " + kvHeads);
            if (mropeSection.length != 3 || Arrays.stream(mropeSection).sum() != headDim / 2) {
                throw new IllegalArgumentException("rope_scaling.mrope_section " + Arrays.toString(mropeSection) + " must have 3 entries summing to head_dim/2 = " + headDim / 2);
            }
        }
    }

    /** Vision encoder; {@code windowSize} in pixels, {@code fullAttBlocks} blocks attending a whole frame. */
    public record Vision(int depth, int hidden, int heads, int outHidden, int patchSize, int mergeSize,
                         int temporalPatchSize, int windowSize, int[] fullAttBlocks, double tokensPerSecond) {
        public int headDim() {
            return hidden / heads;
        }

        /** Width of one pre-patchified input row: 3 * temporal * patch * patch. */
        public int patchRowWidth() {
            return 3 * temporalPatchSize * patchSize * patchSize;
        }

        /** Window side in merged units (4 for Qwen2.5-VL: 112 / 14 / 2). */
        public int windowUnits() {
            return windowSize / mergeSize / patchSize;
        }

        public boolean isFullAttention(int block) {
            for (int b : fullAttBlocks) if (b == block) return true;
            return false;
        }
    }

    /** MoE layout; {@code null} in {@link ModelDims} for a dense model. */
    public record Moe(int[] layers, int numExperts, int topK, boolean normTopkProb) {
        public boolean isMoeLayer(int layer) {
            for (int l : layers) if (l == layer) return true;
            return false;
        }
    }

    public record Tokens(int imageTokenId, int videoTokenId, int visionStartTokenId, int visionEndTokenId) {}

    public boolean isMoeLayer(int layer) {
        return moe != null && moe.isMoeLayer(layer);
    }
}

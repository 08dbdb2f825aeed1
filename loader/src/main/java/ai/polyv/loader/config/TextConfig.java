package ai.polyv.loader.config;

import java.util.Arrays;

/**
 * The Qwen2 text decoder's hyper-parameters (hub keys in parentheses).
 *
 * @param hiddenSize            model width H ({@code hidden_size})
 * @param intermediateSize      SwiGLU FFN width ({@code intermediate_size}); also each expert's width
 * @param numLayers             decoder layers ({@code num_hidden_layers})
 * @param numHeads              query heads ({@code num_attention_heads})
 * @param numKvHeads            key/value heads, GQA ({@code num_key_value_heads}, default numHeads)
 * @param vocabSize             embedding rows and lm_head rows ({@code vocab_size})
 * @param rmsNormEps            RMSNorm epsilon ({@code rms_norm_eps}, default 1e-6)
 * @param ropeTheta             RoPE base ({@code rope_theta}, default 1e6)
 * @param mropeSection          M-RoPE [t, h, w] frequency split, sums to headDim/2
 *                              ({@code rope_scaling.mrope_section} or {@code rope_parameters.mrope_section})
 * @param maxPositionEmbeddings ({@code max_position_embeddings}, default 32768)
 * @param tieWordEmbeddings     lm_head shares embed_tokens ({@code tie_word_embeddings}, default false)
 * @param hiddenAct             FFN activation ({@code hidden_act}, only "silu")
 */
public record TextConfig(int hiddenSize, int intermediateSize, int numLayers, int numHeads, int numKvHeads,
                         int vocabSize, double rmsNormEps, double ropeTheta, int[] mropeSection,
                         int maxPositionEmbeddings, boolean tieWordEmbeddings, String hiddenAct) {
    public TextConfig {
        ConfigException.require(hiddenSize > 0, "hidden_size", "a positive integer", hiddenSize);
        ConfigException.require(intermediateSize > 0, "intermediate_size", "a positive integer", intermediateSize);
        ConfigException.require(numLayers > 0, "num_hidden_layers", "a positive integer", numLayers);
        ConfigException.require(numHeads > 0, "num_attention_heads", "a positive integer", numHeads);
        ConfigException.require(numKvHeads > 0, "num_key_value_heads", "a positive integer", numKvHeads);
        ConfigException.require(vocabSize > 0, "vocab_size", "a positive integer", vocabSize);
        ConfigException.require(hiddenSize % numHeads == 0, "num_attention_heads",
                "a divisor of hidden_size " + hiddenSize, numHeads);
        ConfigException.require(numHeads % numKvHeads == 0, "num_key_value_heads",
                "a divisor of num_attention_heads " + numHeads, numKvHeads);
        int headDim = hiddenSize / numHeads;
        ConfigException.require(headDim % 2 == 0, "num_attention_heads",
                "a head count giving an even head_dim (hidden_size / heads)", numHeads + " (head_dim " + headDim + ")");
        ConfigException.require(rmsNormEps > 0 && Double.isFinite(rmsNormEps), "rms_norm_eps", "a positive number", rmsNormEps);
        ConfigException.require(ropeTheta > 0 && Double.isFinite(ropeTheta), "rope_theta", "a positive number", ropeTheta);
        ConfigException.require(maxPositionEmbeddings > 0, "max_position_embeddings", "a positive integer", maxPositionEmbeddings);
        ConfigException.require(mropeSection != null && mropeSection.length == 3, "rope_scaling.mrope_section",
                "3 integers [t, h, w]", mropeSection == null ? "nothing" : Arrays.toString(mropeSection));
        mropeSection = mropeSection.clone();
        long sum = 0;
        for (int s : mropeSection) {
            ConfigException.require(s >= 0, "rope_scaling.mrope_section", "non-negative integers", Arrays.toString(mropeSection));
            sum += s;
        }
        ConfigException.require(sum == headDim / 2, "rope_scaling.mrope_section",
                "a sum equal to head_dim/2 = " + headDim / 2 + " (head_dim = hidden_size/num_attention_heads = " + headDim + ")",
                Arrays.toString(mropeSection) + " (sum " + sum + ")");
        ConfigException.require("silu".equals(hiddenAct), "hidden_act", "\"silu\"", hiddenAct);
    }

    /** Per-head width: hiddenSize / numHeads. */
    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Width of the k and v projections: numKvHeads * headDim. */
    public int kvWidth() {
        return numKvHeads * headDim();
    }

    @Override
    public int[] mropeSection() {
        return mropeSection.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TextConfig t && hiddenSize == t.hiddenSize && intermediateSize == t.intermediateSize
                && numLayers == t.numLayers && numHeads == t.numHeads && numKvHeads == t.numKvHeads
                && vocabSize == t.vocabSize && Double.compare(rmsNormEps, t.rmsNormEps) == 0
                && Double.compare(ropeTheta, t.ropeTheta) == 0 && Arrays.equals(mropeSection, t.mropeSection)
                && maxPositionEmbeddings == t.maxPositionEmbeddings && tieWordEmbeddings == t.tieWordEmbeddings
                && hiddenAct.equals(t.hiddenAct);
    }

    @Override
    public int hashCode() {
        return ((hiddenSize * 31 + numLayers) * 31 + vocabSize) * 31 + Arrays.hashCode(mropeSection);
    }

    @Override
    public String toString() {
        return "TextConfig[hiddenSize=" + hiddenSize + ", intermediateSize=" + intermediateSize + ", numLayers="
                + numLayers + ", numHeads=" + numHeads + ", numKvHeads=" + numKvHeads + ", headDim=" + headDim()
                + ", vocabSize=" + vocabSize + ", rmsNormEps=" + rmsNormEps + ", ropeTheta=" + ropeTheta
                + ", mropeSection=" + Arrays.toString(mropeSection) + ", maxPositionEmbeddings=" + maxPositionEmbeddings
                + ", tieWordEmbeddings=" + tieWordEmbeddings + ", hiddenAct=" + hiddenAct + "]";
    }
}

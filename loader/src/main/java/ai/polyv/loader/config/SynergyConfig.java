package ai.polyv.loader.config;

/**
 * PolyV's {@code <synergy>} tokens and alignment heads ({@code synergy.*}). Each head is
 * fc1 (Linear H -> hiddenSize) -> GELU(erf) -> fc2 (Linear hiddenSize -> outSize).
 *
 * @param tokenId  the {@code <synergy>} token id ({@code synergy.token_id})
 * @param temporal head aligned to the video teacher ({@code synergy.heads.temporal})
 * @param spatial  head aligned to the 3D teacher ({@code synergy.heads.spatial})
 */
public record SynergyConfig(int tokenId, HeadSize temporal, HeadSize spatial) {
    /** Sizes of one alignment head. */
    public record HeadSize(int hiddenSize, int outSize) {
        public HeadSize {
            ConfigException.require(hiddenSize > 0, "synergy.heads.*.hidden_size", "a positive integer", hiddenSize);
            ConfigException.require(outSize > 0, "synergy.heads.*.out_size", "a positive integer", outSize);
        }
    }

    public SynergyConfig {
        ConfigException.require(tokenId >= 0, "synergy.token_id", "a non-negative token id", tokenId);
        ConfigException.require(temporal != null, "synergy.heads.temporal", "an object", "nothing");
        ConfigException.require(spatial != null, "synergy.heads.spatial", "an object", "nothing");
    }
}

package ai.polyv.loader.config;

/**
 * PolyV's 3D positional encoding ({@code position_3d.*}), docs/spec.md §2.
 *
 * @param encoding    only "sincos"
 * @param base        frequency base (10000)
 * @param mergePixels pixel side of one merged token (28 = patch_size * spatial_merge_size)
 */
public record Position3dConfig(String encoding, double base, int mergePixels) {
    public Position3dConfig {
        ConfigException.require("sincos".equals(encoding), "position_3d.encoding", "\"sincos\"", encoding);
        ConfigException.require(base > 0 && Double.isFinite(base), "position_3d.base", "a positive number", base);
        ConfigException.require(mergePixels > 0, "position_3d.merge_pixels", "a positive integer", mergePixels);
    }
}

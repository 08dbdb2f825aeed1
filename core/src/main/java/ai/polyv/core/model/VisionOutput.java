package ai.polyv.core.model;

/**
 * The vision encoder's result for one {@link VisionInput}: merger rows in the original (un-permuted)
 * merged-token order, with the input's pe3d added when it has one.
 *
 * @param rows   {@code [mergedTokens, hidden]} row-major
 */
public record VisionOutput(float[] rows, int mergedTokens, int hidden) {}

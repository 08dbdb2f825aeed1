package ai.polyv.core.model;

import java.util.Objects;

/**
 * One preprocessed vision segment of a prompt (an image, a video, or multi-view frames fed as a
 * video), as consumed by the vision encoder.
 *
 * @param kind           image or video (decides the placeholder token and the M-RoPE time step)
 * @param pixelValues    {@code [grid.t*grid.h*grid.w, 3*2*14*14]} patch rows in patchify order
 *                       (merge-block order, channel-major c,t,ph,pw), normalised
 * @param grid           temporal/height/width patch grid
 * @param secondsPerGrid seconds covered by one temporal grid step (video only; 1 for images)
 * @param pe3d           {@code [mergedTokens, llmHidden]} 3D positional encoding added to the
 *                       merger output, or {@code null} when the input has no depth
 */
public record VisionInput(Kind kind, float[] pixelValues, GridThw grid, double secondsPerGrid, float[] pe3d) {

    public enum Kind { IMAGE, VIDEO }

    /** Patch grid: t temporal slices (frames/2), h and w patches of 14 pixels. */
    public record GridThw(int t, int h, int w) {
        public GridThw {
            if (t <= 0 || h <= 0 || w <= 0) throw new IllegalArgumentException("grid_thw must be positive, got " + t + "x" + h + "x" + w);
        }

        public int patches() {
            return t * h * w;
        }

        /** Tokens after the 2x2 (merge x merge) merger. */
        public int mergedTokens(int merge) {
            return t * (h / merge) * (w / merge);
        }
    }

    public VisionInput {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(pixelValues, "pixelValues");
        Objects.requireNonNull(grid, "grid");
        if (pixelValues.length % grid.patches() != 0) {
            throw new IllegalArgumentException("pixel_values has " + pixelValues.length
                    + " values, not a multiple of grid " + grid + " patches (" + grid.patches() + ")");
        }
    }

    /** Same kind, grid, time step, pixels and 3D encoding (arrays compared by content): the encoder would give the same rows. */
    public boolean sameContent(VisionInput o) {
        return o != null && kind == o.kind && grid.equals(o.grid) && Double.compare(secondsPerGrid, o.secondsPerGrid) == 0
                && java.util.Arrays.equals(pixelValues, o.pixelValues) && java.util.Arrays.equals(pe3d, o.pe3d);
    }
}

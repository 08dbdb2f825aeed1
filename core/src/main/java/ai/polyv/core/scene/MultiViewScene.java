package ai.polyv.core.scene;

import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.VisionPreprocessor;
import java.util.Objects;

/**
 * Multi-view input: colour views with per-view depth and cameras, all at one size whose sides are
 * multiples of 28 (so each merged token covers exactly 2 views x 28x28 depth pixels).
 *
 * @param colour     {@code [views, h, w, 3]}
 * @param depth      {@code [views, h, w]} metres, 0 = invalid
 * @param intrinsics {@code [views][9]} row-major K at this size
 * @param poses      {@code [views][16]} row-major camera-to-world
 */
public record MultiViewScene(RgbFrames colour, float[] depth, double[][] intrinsics, double[][] poses) {

    /** Views are fed as a video; one temporal grid step (2 views) counts as one second. */
    public static final double SECONDS_PER_GRID = 1.0;

    public MultiViewScene {
        Objects.requireNonNull(colour, "colour");
        int v = colour.frames();
        if (v % 2 != 0) throw new IllegalArgumentException("a multi-view scene needs an even number of views, got " + v);
        if (depth.length != v * colour.height() * colour.width()) {
            throw new IllegalArgumentException("depth has " + depth.length + " values, expected views*h*w = " + v * colour.height() * colour.width());
        }
        if (intrinsics.length != v || poses.length != v) throw new IllegalArgumentException("need " + v + " intrinsics and poses");
    }

    public int views() {
        return colour.frames();
    }

    /** {@code [tokens, 3]} mean world position per merged token. */
    public double[] tokenXyz(int mergePixels) {
        return PositionEncoding3d.tokenXyz(depth, views(), colour.height(), colour.width(), intrinsics, poses, mergePixels, 2);
    }

    /**
     * The vision input: colour views preprocessed as a video (no resize: the size is already a
     * multiple of 28) with the 3D encoding of width {@code dim} (the LLM hidden size).
     */
    public VisionInput toVisionInput(int dim, double base, int mergePixels) {
        float[] pe = PositionEncoding3d.encode(tokenXyz(mergePixels), dim, base);
        float[] pixels = VisionPreprocessor.patchify(colour);
        int t = views() / 2;
        var grid = new VisionInput.GridThw(t, colour.height() / VisionPreprocessor.PATCH, colour.width() / VisionPreprocessor.PATCH);
        return new VisionInput(VisionInput.Kind.VIDEO, pixels, grid, SECONDS_PER_GRID, pe);
    }
}

package ai.polyv.core.preprocess;

import ai.polyv.core.model.VisionInput;
import ai.polyv.core.model.VisionInput.GridThw;
import ai.polyv.core.model.VisionInput.Kind;

/**
 * Turns RGB uint8 frames into the vision encoder's input rows, exactly as the HF Qwen2-VL image
 * processor does (docs/spec.md §1 "Preprocessing"):
 * <ol>
 *   <li>resize each frame to {@link SmartResize} of its size (bicubic, {@link BicubicResampler});
 *       sizes that already are multiples of 28 within the pixel budget are left alone;</li>
 *   <li>value / 255, then (value - mean[c]) / std[c] with the CLIP mean and std;</li>
 *   <li>an image is repeated to 2 frames; a video with an odd frame count repeats its last frame;</li>
 *   <li>patchify: one row of {@code 3*2*14*14} per patch, columns channel-major (c, t, ph, pw);
 *       rows ordered t, block row, block column, then the 2x2 patches of each merge block
 *       (merge-block order: each 2x2 block of patches contiguous).</li>
 * </ol>
 */
public final class VisionPreprocessor {

    public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};
    public static final int PATCH = 14;
    public static final int TEMPORAL_PATCH = 2;
    public static final int MERGE = 2;
    /** Values per patch row: 3 channels x 2 frames x 14 x 14. */
    public static final int ROW = 3 * TEMPORAL_PATCH * PATCH * PATCH;

    /** Pixel budget for {@link SmartResize}. */
    public record Options(int minPixels, int maxPixels) {
        public static final Options DEFAULT = new Options(SmartResize.DEFAULT_MIN_PIXELS, SmartResize.DEFAULT_MAX_PIXELS);

        public Options {
            if (minPixels <= 0 || maxPixels < minPixels) {
                throw new IllegalArgumentException("need 0 < min_pixels <= max_pixels, got " + minPixels + ", " + maxPixels);
            }
        }
    }

    private final Options options;

    public VisionPreprocessor(Options options) {
        this.options = options;
    }

    public VisionPreprocessor() {
        this(Options.DEFAULT);
    }

    public Options options() {
        return options;
    }

    /** Resizes to the smart-resize target of the frames' size (a no-op when it already matches). */
    public RgbFrames resize(RgbFrames frames) {
        SmartResize.Size s = SmartResize.compute(frames.height(), frames.width(), SmartResize.FACTOR,
                options.minPixels(), options.maxPixels());
        return BicubicResampler.resize(frames, s.height(), s.width());
    }

    /** One image (a single frame); secondsPerGrid is 1 (unused for images). */
    public VisionInput image(RgbFrames image) {
        if (image.frames() != 1) throw new IllegalArgumentException("an image has one frame, got " + image.frames());
        RgbFrames r = resize(image);
        GridThw grid = new GridThw(1, r.height() / PATCH, r.width() / PATCH);
        return new VisionInput(Kind.IMAGE, patchify(r), grid, 1.0, null);
    }

    /**
     * A video (frames already sampled at the model's frame rate).
     *
     * @param secondsPerGrid seconds covered by one temporal grid step ({@code 2 / fps})
     */
    public VisionInput video(RgbFrames frames, double secondsPerGrid) {
        return video(frames, secondsPerGrid, null);
    }

    /** A video with a 3D positional encoding ({@code [mergedTokens, Dm]}, or null). */
    public VisionInput video(RgbFrames frames, double secondsPerGrid, float[] pe3d) {
        if (!(secondsPerGrid > 0)) throw new IllegalArgumentException("seconds per grid must be positive, got " + secondsPerGrid);
        RgbFrames r = resize(frames);
        int t = (r.frames() + 1) / TEMPORAL_PATCH;
        GridThw grid = new GridThw(t, r.height() / PATCH, r.width() / PATCH);
        return new VisionInput(Kind.VIDEO, patchify(r), grid, secondsPerGrid, pe3d);
    }

    /**
     * Normalises and patchifies frames whose sides are multiples of 28. A single frame is repeated
     * to two (an image); an odd count repeats the last frame.
     *
     * @return {@code [t*gh*gw, 1176]} rows in merge-block order
     */
    public static float[] patchify(RgbFrames in) {
        int h = in.height();
        int w = in.width();
        int unit = PATCH * MERGE;
        if (h % unit != 0 || w % unit != 0) {
            throw new IllegalArgumentException("frame size " + h + "x" + w + " is not a multiple of " + unit + " (resize first)");
        }
        int frames = in.frames();
        int t = (frames + 1) / TEMPORAL_PATCH;
        int gh = h / PATCH;
        int gw = w / PATCH;
        // normalised planes, [frames, 3, h, w]; 256-entry lookup per channel
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) lut[c][v] = normalise(v, c);
        }
        float[] out = new float[t * gh * gw * ROW];
        int row = 0;
        for (int ti = 0; ti < t; ti++) {
            for (int by = 0; by < gh / MERGE; by++) {
                for (int bx = 0; bx < gw / MERGE; bx++) {
                    for (int my = 0; my < MERGE; my++) {
                        for (int mx = 0; mx < MERGE; mx++) {
                            int py = (by * MERGE + my) * PATCH;
                            int px = (bx * MERGE + mx) * PATCH;
                            int base = row * ROW;
                            for (int c = 0; c < 3; c++) {
                                for (int tp = 0; tp < TEMPORAL_PATCH; tp++) {
                                    // image: frame 0 twice; odd video: last frame repeated
                                    int f = Math.min(ti * TEMPORAL_PATCH + tp, frames - 1);
                                    int colBase = base + (c * TEMPORAL_PATCH + tp) * PATCH * PATCH;
                                    for (int y = 0; y < PATCH; y++) {
                                        int src = ((f * h + py + y) * w + px) * 3 + c;
                                        int dst = colBase + y * PATCH;
                                        for (int x = 0; x < PATCH; x++) {
                                            out[dst + x] = lut[c][in.rgb()[src + x * 3] & 0xff];
                                        }
                                    }
                                }
                            }
                            row++;
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Scalar reference: (v / 255 - mean[c]) / std[c], computed in float32 like the HF processor. */
    public static float normalise(int v, int c) {
        float x = (float) (v * (1.0 / 255.0));
        return (x - MEAN[c]) / STD[c];
    }
}

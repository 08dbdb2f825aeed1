package ai.polyv.core.preprocess;

/**
 * Target size for the vision encoder, with the semantics of HF Qwen2-VL's {@code smart_resize}:
 * each side is rounded to the nearest multiple of {@code factor} (28 = patch 14 x merge 2; Python's
 * {@code round}, i.e. half to even), and if the area then falls outside
 * {@code [minPixels, maxPixels]} both sides are scaled by the same factor beta and floored (too big)
 * or ceiled (too small) to multiples of {@code factor}, aspect ratio kept approximately.
 */
public final class SmartResize {

    /** Qwen2-VL defaults: 56*56 minimum, 28*28*1280 maximum pixels. */
    public static final int DEFAULT_MIN_PIXELS = 56 * 56;
    public static final int DEFAULT_MAX_PIXELS = 28 * 28 * 1280;
    public static final int FACTOR = 28;

    /** A target size in pixels. */
    public record Size(int height, int width) {}

    private SmartResize() {}

    public static Size compute(int height, int width, int factor, int minPixels, int maxPixels) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        if (minPixels > maxPixels) throw new IllegalArgumentException("min_pixels " + minPixels + " > max_pixels " + maxPixels);
        if ((double) Math.max(height, width) / Math.min(height, width) > 200) {
            throw new IllegalArgumentException("absolute aspect ratio must be at most 200, got " + height + "x" + width);
        }
        int hBar = (int) Math.rint((double) height / factor) * factor;
        int wBar = (int) Math.rint((double) width / factor) * factor;
        if ((long) hBar * wBar > maxPixels) {
            double beta = Math.sqrt((double) height * width / maxPixels);
            hBar = Math.max(factor, (int) Math.floor(height / beta / factor) * factor);
            wBar = Math.max(factor, (int) Math.floor(width / beta / factor) * factor);
        } else if ((long) hBar * wBar < minPixels) {
            double beta = Math.sqrt((double) minPixels / ((double) height * width));
            hBar = (int) Math.ceil(height * beta / factor) * factor;
            wBar = (int) Math.ceil(width * beta / factor) * factor;
        }
        return new Size(hBar, wBar);
    }
}

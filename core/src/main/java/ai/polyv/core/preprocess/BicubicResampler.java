package ai.polyv.core.preprocess;

/**
 * Separable bicubic resampling of 8-bit RGB frames, the algorithm of Pillow's
 * {@code ImagingResample} with {@code Image.BICUBIC}: the cubic convolution kernel with a = -0.5,
 * support 2; when downscaling, the kernel is widened by the scale factor (antialiasing), so every
 * input pixel under the footprint contributes. Each output pixel's weights are normalised to sum to
 * 1, quantised to fixed point (22 fractional bits) and accumulated in integers with rounding, then
 * clamped to 0..255. The horizontal pass runs first into an 8-bit intermediate, then the vertical
 * pass, as Pillow does.
 */
public final class BicubicResampler {

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double A = -0.5;
    private static final double SUPPORT = 2.0;

    private BicubicResampler() {}

    /** The bicubic kernel, a = -0.5. */
    static double cubic(double x) {
        x = Math.abs(x);
        if (x < 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * A;
        return 0.0;
    }

    /**
     * Per-output-pixel contribution windows.
     *
     * @param start  {@code [outSize]} first input index
     * @param count  {@code [outSize]} number of input pixels
     * @param coeffs {@code [outSize, kernelSize]} fixed-point weights
     */
    record Coefficients(int kernelSize, int[] start, int[] count, int[] coeffs) {}

    static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        int kernelSize = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        int[] coeffs = new int[outSize * kernelSize];
        double[] k = new double[kernelSize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = cubic((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                double w = ww != 0.0 ? k[x] / ww : k[x];
                double fixed = w * (1 << PRECISION_BITS);
                coeffs[xx * kernelSize + x] = (int) (w < 0 ? fixed - 0.5 : fixed + 0.5);
            }
            start[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(kernelSize, start, count, coeffs);
    }

    private static int clip8(long acc) {
        long v = acc >> PRECISION_BITS;
        return (int) Math.max(0, Math.min(255, v));
    }

    /** Resizes every frame to {@code outHeight x outWidth}; returns the input when the size already matches. */
    public static RgbFrames resize(RgbFrames in, int outHeight, int outWidth) {
        if (outHeight <= 0 || outWidth <= 0) throw new IllegalArgumentException("target size must be positive, got " + outHeight + "x" + outWidth);
        if (in.height() == outHeight && in.width() == outWidth) return in;
        byte[] out = new byte[in.frames() * outHeight * outWidth * 3];
        Coefficients horiz = in.width() == outWidth ? null : coefficients(in.width(), outWidth);
        Coefficients vert = in.height() == outHeight ? null : coefficients(in.height(), outHeight);
        for (int f = 0; f < in.frames(); f++) {
            // [height, outWidth, 3]
            byte[] src = new byte[in.frameBytes()];
            System.arraycopy(in.rgb(), f * in.frameBytes(), src, 0, src.length);
            byte[] mid = horiz == null ? src : horizontal(src, in.height(), in.width(), outWidth, horiz);
            byte[] dst = vert == null ? mid : vertical(mid, in.height(), outHeight, outWidth, vert);
            System.arraycopy(dst, 0, out, f * outHeight * outWidth * 3, dst.length);
        }
        return new RgbFrames(in.frames(), outHeight, outWidth, out);
    }

    // src [h, inW, 3] -> [h, outW, 3]
    private static byte[] horizontal(byte[] src, int h, int inW, int outW, Coefficients c) {
        byte[] dst = new byte[h * outW * 3];
        for (int y = 0; y < h; y++) {
            int row = y * inW * 3;
            for (int xx = 0; xx < outW; xx++) {
                int s = c.start[xx];
                int n = c.count[xx];
                int kOff = xx * c.kernelSize;
                for (int ch = 0; ch < 3; ch++) {
                    long acc = 1L << (PRECISION_BITS - 1);
                    for (int x = 0; x < n; x++) {
                        acc += (long) (src[row + (s + x) * 3 + ch] & 0xff) * c.coeffs[kOff + x];
                    }
                    dst[(y * outW + xx) * 3 + ch] = (byte) clip8(acc);
                }
            }
        }
        return dst;
    }

    // src [inH, w, 3] -> [outH, w, 3]
    private static byte[] vertical(byte[] src, int inH, int outH, int w, Coefficients c) {
        byte[] dst = new byte[outH * w * 3];
        for (int yy = 0; yy < outH; yy++) {
            int s = c.start[yy];
            int n = c.count[yy];
            int kOff = yy * c.kernelSize;
            for (int x = 0; x < w * 3; x++) {
                long acc = 1L << (PRECISION_BITS - 1);
                for (int y = 0; y < n; y++) {
                    acc += (long) (src[(s + y) * w * 3 + x] & 0xff) * c.coeffs[kOff + y];
                }
                dst[yy * w * 3 + x] = (byte) clip8(acc);
            }
        }
        return dst;
    }
}

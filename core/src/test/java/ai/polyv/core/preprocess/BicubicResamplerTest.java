package ai.polyv.core.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BicubicResamplerTest {

    @Test
    void kernelValues() {
        assertEquals(1.0, BicubicResampler.cubic(0), 0);
        assertEquals(0.8671875, BicubicResampler.cubic(0.25), 1e-15);
        assertEquals(0.2265625, BicubicResampler.cubic(-0.75), 1e-15);
        assertEquals(-0.0703125, BicubicResampler.cubic(1.25), 1e-15);
        assertEquals(0.0, BicubicResampler.cubic(2.0), 0);
    }

    /** 4 -> 2 pixels (antialiased, support widened to 4): hand-computed weights. */
    @Test
    void handComputedDownscale() {
        // row 0,100,200,250: weights .8671875,.8671875,.2265625,-.0703125 (sum 1.890625): 114.453125 / 1.890625 = 60.54
        byte[] rgb = new byte[4 * 3];
        int[] v = {0, 100, 200, 250};
        for (int i = 0; i < 4; i++) for (int c = 0; c < 3; c++) rgb[i * 3 + c] = (byte) v[i];
        RgbFrames out = BicubicResampler.resize(new RgbFrames(1, 1, 4, rgb), 1, 2);
        assertEquals(61, out.get(0, 0, 0, 0));
        // output 1, center 3: x=0..3 -> args (x-2.5)/2: -1.25,-.75,-.25,.25; = (-0 + 100*.2265625 + 200*.8671875 + 250*.8671875)/1.890625
        assertEquals((int) Math.round((100 * 0.2265625 + 200 * 0.8671875 + 250 * 0.8671875) / 1.890625), out.get(0, 0, 1, 0));
    }

    @Test
    void constantStaysConstant() {
        byte[] rgb = new byte[37 * 53 * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 200;
            rgb[i + 1] = 17;
            rgb[i + 2] = (byte) 255;
        }
        for (int[] size : new int[][] {{28, 28}, {84, 112}, {37, 20}}) {
            RgbFrames out = BicubicResampler.resize(new RgbFrames(1, 37, 53, rgb), size[0], size[1]);
            for (int y = 0; y < size[0]; y++) {
                for (int x = 0; x < size[1]; x++) {
                    assertEquals(200, out.get(0, y, x, 0));
                    assertEquals(17, out.get(0, y, x, 1));
                    assertEquals(255, out.get(0, y, x, 2));
                }
            }
        }
    }

    @Test
    void sameSizeIsIdentity() {
        RgbFrames f = new RgbFrames(1, 2, 2, new byte[12]);
        assertSame(f, BicubicResampler.resize(f, 2, 2));
    }

    /** Against a plain double-precision separable reference (rounded per pass): at most 1 level apart. */
    @Test
    void matchesDoubleReference() {
        SplittableRandom r = new SplittableRandom(7);
        int h = 23, w = 41;
        byte[] rgb = new byte[2 * h * w * 3];
        for (int i = 0; i < rgb.length; i++) rgb[i] = (byte) r.nextInt(256);
        RgbFrames in = new RgbFrames(2, h, w, rgb);
        for (int[] size : new int[][] {{56, 84}, {14, 28}, {28, 41}, {9, 100}}) {
            RgbFrames out = BicubicResampler.resize(in, size[0], size[1]);
            for (int f = 0; f < 2; f++) {
                double[][][] ref = reference(in, f, size[0], size[1]);
                for (int y = 0; y < size[0]; y++) {
                    for (int x = 0; x < size[1]; x++) {
                        for (int c = 0; c < 3; c++) {
                            int d = Math.abs(out.get(f, y, x, c) - (int) ref[y][x][c]);
                            assertTrue(d <= 1, "pixel " + y + "," + x + " differs by " + d);
                        }
                    }
                }
            }
        }
    }

    private static double[][] weights(int in, int out) {
        double scale = (double) in / out;
        double fs = Math.max(scale, 1);
        double[][] wts = new double[out][in];
        for (int o = 0; o < out; o++) {
            double center = (o + 0.5) * scale;
            double sum = 0;
            for (int i = 0; i < in; i++) {
                double wv = Math.abs(center - (i + 0.5)) < 2 * fs ? BicubicResampler.cubic((i + 0.5 - center) / fs) : 0;
                wts[o][i] = wv;
                sum += wv;
            }
            for (int i = 0; i < in; i++) wts[o][i] /= sum;
        }
        return wts;
    }

    private static double[][][] reference(RgbFrames in, int f, int oh, int ow) {
        double[][] wx = in.width() == ow ? null : weights(in.width(), ow);
        double[][] wy = in.height() == oh ? null : weights(in.height(), oh);
        double[][][] mid = new double[in.height()][ow][3];
        for (int y = 0; y < in.height(); y++) {
            for (int x = 0; x < ow; x++) {
                for (int c = 0; c < 3; c++) {
                    double s = 0;
                    if (wx == null) s = in.get(f, y, x, c);
                    else for (int i = 0; i < in.width(); i++) s += wx[x][i] * in.get(f, y, i, c);
                    mid[y][x][c] = Math.max(0, Math.min(255, Math.round(s)));
                }
            }
        }
        double[][][] out = new double[oh][ow][3];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                for (int c = 0; c < 3; c++) {
                    double s = 0;
                    if (wy == null) s = mid[y][x][c];
                    else for (int i = 0; i < in.height(); i++) s += wy[y][i] * mid[i][x][c];
                    out[y][x][c] = Math.max(0, Math.min(255, Math.round(s)));
                }
            }
        }
        return out;
    }
}

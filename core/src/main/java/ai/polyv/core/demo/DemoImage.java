package ai.polyv.core.demo;

import ai.polyv.core.preprocess.RgbFrames;

/** A synthetic test picture made in memory: a colour gradient with a red disc and a blue bar. */
public final class DemoImage {

    private DemoImage() {}

    /** {@code height x width} RGB picture, deterministic. */
    public static RgbFrames create(int height, int width) {
        byte[] rgb = new byte[height * width * 3];
        double cy = height * 0.4, cx = width * 0.35, r = Math.min(height, width) * 0.2;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int red = 255 * x / Math.max(1, width - 1);
                int green = 255 * y / Math.max(1, height - 1);
                int blue = 128;
                if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r) {
                    red = 230;
                    green = 30;
                    blue = 30;
                }
                if (y > height * 0.75 && y < height * 0.85 && x > width * 0.5) {
                    red = 20;
                    green = 40;
                    blue = 220;
                }
                int o = (y * width + x) * 3;
                rgb[o] = (byte) red;
                rgb[o + 1] = (byte) green;
                rgb[o + 2] = (byte) blue;
            }
        }
        return new RgbFrames(1, height, width, rgb);
    }
}

package ai.polyv.core.preprocess;

import java.util.Objects;

/**
 * A stack of RGB frames, 8 bits per channel, row-major and interleaved.
 *
 * @param frames number of frames (1 for an image)
 * @param height rows per frame
 * @param width  columns per frame
 * @param rgb    {@code [frames, height, width, 3]} unsigned bytes (read with {@code & 0xff})
 */
public record RgbFrames(int frames, int height, int width, byte[] rgb) {

    public RgbFrames {
        Objects.requireNonNull(rgb, "rgb");
        if (frames <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("frames/height/width must be positive, got " + frames + "x" + height + "x" + width);
        }
        long expected = (long) frames * height * width * 3;
        if (rgb.length != expected) {
            throw new IllegalArgumentException("rgb has " + rgb.length + " bytes, expected frames*height*width*3 = " + expected);
        }
    }

    /** Bytes in one frame ({@code height*width*3}). */
    public int frameBytes() {
        return height * width * 3;
    }

    /** Value of channel {@code c} of pixel (y, x) of frame {@code f}, 0..255. */
    public int get(int f, int y, int x, int c) {
        return rgb[((f * height + y) * width + x) * 3 + c] & 0xff;
    }

    /** One frame as its own single-frame stack (copies). */
    public RgbFrames frame(int f) {
        if (f < 0 || f >= frames) throw new IndexOutOfBoundsException("frame " + f + " of " + frames);
        byte[] out = new byte[frameBytes()];
        System.arraycopy(rgb, f * frameBytes(), out, 0, out.length);
        return new RgbFrames(1, height, width, out);
    }

    /** Frames of the same size stacked in order. */
    public static RgbFrames stack(java.util.List<RgbFrames> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("no frames to stack");
        RgbFrames first = parts.get(0);
        int total = 0;
        for (RgbFrames p : parts) {
            if (p.height != first.height || p.width != first.width) {
                throw new IllegalArgumentException("frames differ in size: " + first.height + "x" + first.width
                        + " vs " + p.height + "x" + p.width);
            }
            total += p.frames;
        }
        byte[] out = new byte[total * first.frameBytes()];
        int off = 0;
        for (RgbFrames p : parts) {
            System.arraycopy(p.rgb, 0, out, off, p.rgb.length);
            off += p.rgb.length;
        }
        return new RgbFrames(total, first.height, first.width, out);
    }
}

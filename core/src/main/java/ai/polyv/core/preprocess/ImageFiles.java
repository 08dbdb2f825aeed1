package ai.polyv.core.preprocess;

import ai.polyv.loader.util.PathChecks;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Decoding of PNG/JPEG files or bytes (javax.imageio) into {@link RgbFrames}. */
public final class ImageFiles {

    private ImageFiles() {}

    /**
     * Reads one image file as a single RGB frame (alpha dropped, grey expanded to RGB).
     *
     * @throws IllegalArgumentException when it is missing, not a regular file or not a decodable PNG/JPEG
     */
    public static RgbFrames read(Path file) {
        PathChecks.regularFile("image file", file);
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode image " + file + ": " + e.getMessage(), e);
        }
        if (img == null) throw new IllegalArgumentException("cannot decode image " + file + ": not a PNG or JPEG file");
        return fromImage(img);
    }

    /**
     * Decodes PNG or JPEG bytes (a file's contents) as one RGB frame, as {@link #read} does a file.
     *
     * @param what names the bytes in the error (e.g. {@code "image_bytes"[0]})
     * @throws IllegalArgumentException when they are not a decodable PNG/JPEG
     */
    public static RgbFrames decode(byte[] bytes, String what) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode " + what + ": " + e.getMessage(), e);
        }
        if (img == null) throw new IllegalArgumentException("cannot decode " + what + ": not a PNG or JPEG image (" + bytes.length + " bytes)");
        return fromImage(img);
    }

    /**
     * Checks, without decoding the pixels, that {@code bytes} start like an image ImageIO can read (PNG,
     * JPEG, ...), so that a batch refuses bad bytes before anything runs. A file cut short is still only
     * found by {@link #decode}.
     *
     * @throws IllegalArgumentException naming {@code what} when no image reader recognises them
     */
    public static void requireImageFormat(byte[] bytes, String what) {
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            if (in == null || !ImageIO.getImageReaders(in).hasNext()) {
                throw new IllegalArgumentException(what + " is not a PNG or JPEG image (" + bytes.length + " bytes)");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    /** Converts a decoded image to RGB bytes (via its colour model, sRGB). */
    public static RgbFrames fromImage(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < argb.length; i++) {
            int p = argb[i];
            rgb[i * 3] = (byte) (p >> 16);
            rgb[i * 3 + 1] = (byte) (p >> 8);
            rgb[i * 3 + 2] = (byte) p;
        }
        return new RgbFrames(1, h, w, rgb);
    }
}

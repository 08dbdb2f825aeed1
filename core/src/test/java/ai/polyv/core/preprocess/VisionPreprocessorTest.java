package ai.polyv.core.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.model.VisionInput;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VisionPreprocessorTest {

    /** Frame f has value (10*f + c) everywhere except pixel (y, x) = (30, 17) which is 255. */
    private static RgbFrames marked(int frames, int h, int w) {
        byte[] rgb = new byte[frames * h * w * 3];
        for (int f = 0; f < frames; f++) {
            for (int i = 0; i < h * w; i++) for (int c = 0; c < 3; c++) rgb[(f * h * w + i) * 3 + c] = (byte) (10 * f + c);
            for (int c = 0; c < 3; c++) rgb[((f * h + 30) * w + 17) * 3 + c] = (byte) 255;
        }
        return new RgbFrames(frames, h, w, rgb);
    }

    @Test
    void patchOrderAndOddFrameCount() {
        // 3 frames of 56x84 -> t = 2 (last frame repeated), grid 4x6 patches, 24 patches per slice
        RgbFrames in = marked(3, 56, 84);
        VisionInput v = new VisionPreprocessor().video(in, 1.0);
        assertEquals(new VisionInput.GridThw(2, 4, 6), v.grid());
        float[] px = v.pixelValues();
        assertEquals(2 * 24 * VisionPreprocessor.ROW, px.length);
        // pixel (30,17): patch row 2, col 1 -> merge block (1,0), inner (0,1) -> row (1*3+0)*4 + 0*2+1 = 13
        int row = 13;
        int col = (0 * 2 + 0) * 196 + (30 - 28) * 14 + (17 - 14); // c=0, t=0, ph=2, pw=3
        assertEquals(VisionPreprocessor.normalise(255, 0), px[row * 1176 + col], 0);
        assertEquals(VisionPreprocessor.normalise(0, 0), px[row * 1176 + col + 1], 0);
        // channel 2, temporal 1 of slice 1 = frame 2 repeated (odd count): value 10*2+2
        int slice1 = 24 * 1176;
        assertEquals(VisionPreprocessor.normalise(22, 2), px[slice1 + (2 * 2 + 1) * 196], 0);
        assertEquals(VisionPreprocessor.normalise(22, 2), px[slice1 + (2 * 2 + 0) * 196], 0);
        assertEquals(VisionPreprocessor.normalise(11, 1), px[(1 * 2 + 1) * 196], 0);
    }

    @Test
    void imageIsRepeatedAndResized() {
        VisionInput v = new VisionPreprocessor().image(marked(1, 100, 60));
        assertEquals(VisionInput.Kind.IMAGE, v.kind());
        assertEquals(new VisionInput.GridThw(1, 8, 4), v.grid()); // 112 x 56
        float[] px = v.pixelValues();
        for (int r = 0; r < 32; r++) {
            for (int i = 0; i < 3 * 196; i++) {
                int c = i / 196;
                assertEquals(px[r * 1176 + (c * 2) * 196 + i % 196], px[r * 1176 + (c * 2 + 1) * 196 + i % 196], 0);
            }
        }
    }

    @Test
    void maxPixelsIsConfigurable() {
        VisionInput v = new VisionPreprocessor(new VisionPreprocessor.Options(3136, 56 * 56 * 2)).image(marked(1, 280, 280));
        assertTrue(v.grid().h() * v.grid().w() * 196 <= 56 * 56 * 2, "within budget: " + v.grid());
    }

    @Test
    void decodesPngAndNamesBadFiles(@TempDir Path dir) throws IOException {
        BufferedImage img = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
        img.setRGB(4, 2, 0x123456);
        Path png = dir.resolve("a.png");
        ImageIO.write(img, "png", png.toFile());
        RgbFrames f = ImageFiles.read(png);
        assertEquals(3, f.height());
        assertEquals(5, f.width());
        assertEquals(0x12, f.get(0, 2, 4, 0));
        assertEquals(0x34, f.get(0, 2, 4, 1));
        assertEquals(0x56, f.get(0, 2, 4, 2));

        Path bad = dir.resolve("bad.jpg");
        Files.writeString(bad, "not an image");
        var e = assertThrows(IllegalArgumentException.class, () -> ImageFiles.read(bad));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> ImageFiles.read(dir.resolve("missing.png")));
        assertEquals("image file " + dir.resolve("missing.png") + " does not exist", m.getMessage());
        m = assertThrows(IllegalArgumentException.class, () -> ImageFiles.read(Path.of("/dev/null")));
        assertEquals("image file /dev/null is not a regular file", m.getMessage());
        m = assertThrows(IllegalArgumentException.class, () -> ImageFiles.read(dir));
        assertEquals("image file " + dir + " is not a regular file (it is a directory)", m.getMessage());
    }

    @Test
    void videoDirectorySampling(@TempDir Path dir) throws IOException {
        for (int i = 0; i < 10; i++) {
            BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) img.setRGB(x, y, i * 20 << 16);
            ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
        }
        // 10 frames at 6 fps sampled to 2 fps: source frames 0, 3, 6, 9 (names sorted numerically)
        VideoFrames v = VideoFrames.readDirectory(dir, 2, 6);
        assertEquals(4, v.frames().frames());
        assertEquals(java.util.List.of("0.png", "3.png", "6.png", "9.png"),
                v.files().stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(180, v.frames().get(3, 0, 0, 0));
        assertEquals(1.0, v.secondsPerGrid(), 0);
        assertEquals(10, VideoFrames.readDirectory(dir, 6, 6).frames().frames());
        assertThrows(IllegalArgumentException.class, () -> VideoFrames.readDirectory(dir, 12, 6));
        var notDir = assertThrows(IllegalArgumentException.class, () -> VideoFrames.readDirectory(dir.resolve("0.png"), 2, 6));
        assertEquals("video directory " + dir.resolve("0.png") + " is not a directory (it is a file)", notDir.getMessage());
        assertTrue(VideoFrames.naturalCompare("frame2.png", "frame10.png") < 0);
        assertTrue(VideoFrames.naturalCompare("b.png", "a.png") > 0);
    }
}

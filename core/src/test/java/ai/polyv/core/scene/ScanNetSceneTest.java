package ai.polyv.core.scene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic ScanNet scene: a wall 2 m in front of every camera (depth 60x60 px, fx = fy = 50,
 * principal point at the centre), camera-to-world a translation by (1, 2, 3) plus 0.1*frame in x.
 */
class ScanNetSceneTest {

    @TempDir
    Path dir;

    private static final int FRAMES = 7;

    @BeforeEach
    void writeScene() throws IOException {
        for (String d : new String[] {"color", "depth", "pose", "intrinsic"}) Files.createDirectories(dir.resolve(d));
        Files.writeString(dir.resolve("intrinsic/intrinsic_depth.txt"),
                "50 0 29.5 0\n0 50 29.5 0\n0 0 1 0\n0 0 0 1\n");
        for (int f = 0; f < FRAMES; f++) {
            BufferedImage depth = new BufferedImage(60, 60, BufferedImage.TYPE_USHORT_GRAY);
            WritableRaster r = depth.getRaster();
            for (int y = 0; y < 60; y++) for (int x = 0; x < 60; x++) r.setSample(x, y, 0, 2000);
            ImageIO.write(depth, "png", dir.resolve("depth/" + f + ".png").toFile());
            BufferedImage colour = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 60; y++) for (int x = 0; x < 80; x++) colour.setRGB(x, y, 0x406080);
            ImageIO.write(colour, "jpg", dir.resolve("color/" + f + ".jpg").toFile());
            String pose = f == 1 ? "-inf -inf -inf -inf\n-inf -inf -inf -inf\n-inf -inf -inf -inf\n-inf -inf -inf -inf\n"
                    : "1 0 0 " + (1 + 0.1 * f) + "\n0 1 0 2\n0 0 1 3\n0 0 0 1\n";
            Files.writeString(dir.resolve("pose/" + f + ".txt"), pose);
        }
    }

    @Test
    void loadsAndComputesWorldPositions() {
        MultiViewScene s = ScanNetScene.load(dir, 4, 56 * 56, 28 * 28 * 1280);
        assertEquals(4, s.views());
        assertEquals(56, s.colour().height()); // smart_resize(60, 60) = 56 x 56
        assertEquals(56, s.colour().width());
        // usable frames 0,2,3,4,5,6 (frame 1 has an invalid pose); evenly: indices 0, 2, 3, 5 -> frames 0, 3, 4, 6
        double[] x0 = {1.0, 1.3, 1.4, 1.6};
        for (int v = 0; v < 4; v++) assertEquals(x0[v], s.poses()[v][3], 1e-12, "view " + v + " pose");
        // K scaled to 56/60: fx' = 46.667, cx' = (29.5 + 0.5) * 56/60 - 0.5 = 27.5
        assertEquals(50.0 * 56 / 60, s.intrinsics()[0][0], 1e-12);
        assertEquals(27.5, s.intrinsics()[0][2], 1e-12);
        double[] xyz = s.tokenXyz(28); // [2 pairs * 2 * 2, 3]
        assertEquals(8 * 3, xyz.length);
        // block column 0: mean pixel column 13.5 -> x_cam = 2 * (13.5 - 27.5) / 46.667 = -0.6; same for rows
        double fx = 50.0 * 56 / 60;
        double off = 2 * 14 / fx;
        for (int pair = 0; pair < 2; pair++) {
            double tx = (x0[pair * 2] + x0[pair * 2 + 1]) / 2;
            for (int by = 0; by < 2; by++) {
                for (int bx = 0; bx < 2; bx++) {
                    int t = (pair * 2 + by) * 2 + bx;
                    assertEquals(tx + (bx == 0 ? -off : off), xyz[t * 3], 1e-9, "x of token " + t);
                    assertEquals(2 + (by == 0 ? -off : off), xyz[t * 3 + 1], 1e-9, "y of token " + t);
                    assertEquals(5.0, xyz[t * 3 + 2], 1e-9, "z of token " + t);
                }
            }
        }
        var input = s.toVisionInput(96, 10000, 28);
        assertEquals(8 * 96, input.pe3d().length);
        assertEquals(Math.sin(xyz[2]), input.pe3d()[64], 1e-6); // sin(z * w_0) of token 0 at column 2*2*16
        assertEquals(Math.cos(xyz[1]), input.pe3d()[48], 1e-6); // cos(y * w_0)
    }

    @Test
    void badFilesAreNamed() throws IOException {
        Files.writeString(dir.resolve("pose/3.txt"), "1 0 0 1\n0 1 0\n0 0 1 3\n0 0 0 1\n");
        var e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 4, 3136, 1_003_520));
        assertTrue(e.getMessage().contains("3.txt line 2") && e.getMessage().contains("expected 4 numbers"), e.getMessage());

        Files.writeString(dir.resolve("pose/3.txt"), "1 0 0 1\n0 1 0 x\n0 0 1 3\n0 0 0 1\n");
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 4, 3136, 1_003_520));
        assertTrue(e.getMessage().contains("3.txt line 2") && e.getMessage().contains("'x'"), e.getMessage());

        Files.delete(dir.resolve("color/4.jpg"));
        Files.writeString(dir.resolve("pose/3.txt"), "1 0 0 1\n0 1 0 2\n0 0 1 3\n0 0 0 1\n");
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 4, 3136, 1_003_520));
        assertEquals("scene colour frame " + dir.resolve("color").resolve("4.jpg") + " does not exist", e.getMessage());
        Files.createDirectory(dir.resolve("color/4.jpg"));
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 4, 3136, 1_003_520));
        assertEquals("scene colour frame " + dir.resolve("color").resolve("4.jpg") + " is not a regular file (it is a directory)", e.getMessage());

        Files.writeString(dir.resolve("intrinsic/intrinsic_depth.txt"), "50 0 29.5\n0 50 29.5\n1 0 1\n");
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 4, 3136, 1_003_520));
        assertTrue(e.getMessage().contains("intrinsic_depth.txt"), e.getMessage());

        assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir, 3, 3136, 1_003_520));
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(dir.resolve("nope"), 4, 3136, 1_003_520));
        assertEquals("scene directory " + dir.resolve("nope") + " does not exist", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScanNetScene.load(Path.of("/dev/null"), 4, 3136, 1_003_520));
        assertEquals("scene directory /dev/null is not a directory", e.getMessage());
    }
}

package ai.polyv.core.scene;

import static ai.polyv.testsupport.RelativeError.relL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** xyz and pe3d of the golden multiview3d case (tiny-a: Dm 96; tiny-c: Dm 896 = 6*149 + 2 padding). */
class PositionEncoding3dGoldenTest {


    private static double[][] matrices(float[] flat, int n, int size) {
        double[][] out = new double[n][size];
        for (int v = 0; v < n; v++) for (int i = 0; i < size; i++) out[v][i] = flat[v * size + i];
        return out;
    }

    @ParameterizedTest
    @CsvSource({"tiny-a,96", "tiny-c,896"})
    void xyzAndEncodingMatchGolden(String model, int dm) {
        GoldenFile g = GoldenFile.open(model);
        String p = "multiview3d.video0.";
        int[] ds = g.shape(p + "depth"); // [views, H, W]
        int views = ds[0];
        float[] depth = g.f32(p + "depth");
        double[][] k = matrices(g.f32(p + "intrinsics"), views, 9);
        double[][] b = matrices(g.f32(p + "extrinsics"), views, 16);

        double[] xyz = PositionEncoding3d.tokenXyz(depth, views, ds[1], ds[2], k, b, 28, 2);
        float[] xyzF = new float[xyz.length];
        for (int i = 0; i < xyz.length; i++) xyzF[i] = (float) xyz[i];
        float[] xyzRef = g.f32(p + "xyz");
        assertEquals(xyzRef.length, xyzF.length);
        double ex = relL2(xyzF, xyzRef);
        assertTrue(ex <= 1e-5, "xyz relative L2 " + ex);

        float[] peRef = g.f32(p + "pe3d");
        assertEquals(dm, g.shape(p + "pe3d")[1]);
        float[] pe = PositionEncoding3d.encode(xyz, dm, 10000.0);
        assertEquals(peRef.length, pe.length);
        double ep = relL2(pe, peRef);
        assertTrue(ep <= 1e-5, "pe3d relative L2 " + ep);
        int tokens = xyz.length / 3;
        for (int t = 0; t < tokens; t++) for (int c = dm / 6 * 6; c < dm; c++) assertEquals(0f, pe[t * dm + c], "padding column " + c);

        // the whole multi-view input: pixel values like the golden, encoding attached
        int[] fs = g.shape(p + "frames_u8");
        MultiViewScene scene = new MultiViewScene(new RgbFrames(fs[0], fs[1], fs[2], g.u8(p + "frames_u8")), depth, k, b);
        VisionInput v = scene.toVisionInput(dm, 10000.0, 28);
        long[] grid = g.i64(p + "grid_thw");
        assertArrayEquals(grid, new long[] {v.grid().t(), v.grid().h(), v.grid().w()});
        assertTrue(relL2(v.pixelValues(), g.f32(p + "pixel_values")) <= 1e-6);
        assertTrue(relL2(v.pe3d(), peRef) <= 1e-5);
        assertEquals(g.f32("multiview3d.second_per_grid_ts")[0], v.secondsPerGrid(), 0);
    }
}

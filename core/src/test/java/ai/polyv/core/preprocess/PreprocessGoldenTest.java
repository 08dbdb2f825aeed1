package ai.polyv.core.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.model.VisionInput;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Preprocessing of every golden vision input (image, video, multiview3d, mixed, train) to 1e-6. */
class PreprocessGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-a", "tiny-c"})
    void pixelValuesMatchGolden(String model) {
        GoldenFile g = GoldenFile.open(model);
        List<String> inputs = new ArrayList<>();
        for (String n : g.names()) {
            if (n.endsWith(".frames_u8")) inputs.add(n.substring(0, n.length() - ".frames_u8".length()));
        }
        assertFalse(inputs.isEmpty(), "no golden frames in " + model);
        VisionPreprocessor pre = new VisionPreprocessor();
        List<String> cases = new ArrayList<>();
        for (String in : inputs) {
            int[] s = g.shape(in + ".frames_u8"); // [frames, H, W, 3]
            RgbFrames frames = new RgbFrames(s[0], s[1], s[2], g.u8(in + ".frames_u8"));
            boolean image = in.substring(in.indexOf('.') + 1).startsWith("image");
            VisionInput v = image ? pre.image(frames) : pre.video(frames, 2.0);
            assertEquals(image ? VisionInput.Kind.IMAGE : VisionInput.Kind.VIDEO, v.kind());
            long[] grid = g.i64(in + ".grid_thw");
            assertArrayEquals(grid, new long[] {v.grid().t(), v.grid().h(), v.grid().w()}, in + " grid_thw");
            float[] expected = g.f32(in + ".pixel_values");
            assertEquals(expected.length, v.pixelValues().length, in + " pixel_values length");
            double maxDiff = 0;
            for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - v.pixelValues()[i]));
            assertTrue(maxDiff <= 1e-6, in + " pixel_values max |diff| " + maxDiff);
            cases.add(in.substring(0, in.indexOf('.')));
        }
        for (String c : List.of("image", "video", "multiview3d", "mixed")) assertTrue(cases.contains(c), "case " + c + " covered");
    }
}

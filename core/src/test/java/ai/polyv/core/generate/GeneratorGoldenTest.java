package ai.polyv.core.generate;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.RoutingStats;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.core.sampling.SamplingOptions;
import ai.polyv.core.sampling.StopTokens;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole pipeline from raw uint8 frames (our preprocessing, our 3D encoding) through the model to
 * greedy decoding reproduces the golden greedy ids of tiny-a exactly.
 */
class GeneratorGoldenTest {

    private static CpuBackend backend;
    private static PolyVModel model;
    private static final GoldenFile G = GoldenFile.open("tiny-a");

    @BeforeAll
    static void load() {
        backend = new CpuBackend(2);
        model = PolyVModel.load(SharedData.golden("tiny-a"), backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    /** Vision inputs of a golden case, built from its frames in prompt order (image0, video0 as in golden.json). */
    static List<VisionInput> visionOf(String c) {
        return visionOfGolden(c, model);
    }

    /** The same for any loaded tiny-a model {@code m} (its width sizes the 3D encoding). */
    static List<VisionInput> visionOfGolden(String c, PolyVModel m) {
        List<VisionInput> out = new ArrayList<>();
        VisionPreprocessor pre = new VisionPreprocessor();
        for (String kind : new String[] {"image", "video"}) {
            String p = c + "." + kind + "0.";
            if (!G.names().contains(p + "frames_u8")) continue;
            int[] s = G.shape(p + "frames_u8");
            RgbFrames f = new RgbFrames(s[0], s[1], s[2], G.u8(p + "frames_u8"));
            if (kind.equals("image")) {
                out.add(pre.image(f));
            } else if (G.names().contains(p + "depth")) {
                out.add(ai.polyv.core.api.GoldenCases.scene(p, f).toVisionInput(m.config().text().hiddenSize(), 10000, 28));
            } else {
                out.add(pre.video(f, G.f32(c + ".second_per_grid_ts")[0]));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"text", "image", "video", "multiview3d", "mixed"})
    void greedyIdsMatchGolden(String c) {
        int[] prompt = ints(G.i64(c + ".input_ids"));
        int[] expected = ints(G.i64(c + ".greedy_ids"));
        List<Integer> streamed = new ArrayList<>();
        Generator.Result r = new Generator(model).generate(prompt, visionOf(c), expected.length, SamplingOptions.GREEDY,
                StopTokens.of(), streamed::add);
        assertArrayEquals(expected, r.tokens(), c + " greedy ids");
        assertEquals(Arrays.stream(expected).boxed().toList(), streamed);
        assertEquals(Generator.StopReason.MAX_NEW_TOKENS, r.stopReason());
        assertEquals(expected.length - 1, r.decodeSteps());
        assertEquals(prompt.length, r.promptTokens());
        // every prompt and decoded token is routed to top-k = 2 experts in each MoE layer
        RoutingStats rs = r.routing();
        for (int layer : rs.moeLayers()) {
            assertEquals(2L * (prompt.length + r.decodeSteps()), Arrays.stream(rs.tokensPerExpert(layer)).sum(), "layer " + layer);
        }
    }

    @Test
    void stopTokenEndsGenerationAndIsNotEmitted() {
        int[] prompt = ints(G.i64("text.input_ids"));
        int[] golden = ints(G.i64("text.greedy_ids"));
        Generator.Result r = new Generator(model).generate(prompt, List.of(), 20, SamplingOptions.GREEDY, StopTokens.of(golden[2]), id -> { });
        assertEquals(Generator.StopReason.STOP_TOKEN, r.stopReason());
        assertArrayEquals(Arrays.copyOf(golden, indexOf(golden, golden[2])), r.tokens());
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
        return -1;
    }

    @Test
    void seededSamplingIsReproducibleAndPromptLimitsAreChecked() {
        int[] prompt = ints(G.i64("text.input_ids"));
        SamplingOptions o = new SamplingOptions(0.9, 40, 0.9, 77);
        int[] a = new Generator(model).generate(prompt, List.of(), 10, o, StopTokens.of(), id -> { }).tokens();
        int[] b = new Generator(model).generate(prompt, List.of(), 10, o, StopTokens.of(), id -> { }).tokens();
        assertArrayEquals(a, b);
        assertEquals(10, a.length);
        int context = model.config().text().maxPositionEmbeddings();
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(new int[context], List.of(), 1, SamplingOptions.GREEDY, StopTokens.of(), id -> { }));
        assertTrue(e.getMessage().contains("prompt too long"), e.getMessage());
    }
}

package ai.polyv.runtime.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.runtime.PolyV;
import ai.polyv.runtime.backend.CpuBackend;
import ai.polyv.runtime.generate.GenerationRequest;
import ai.polyv.runtime.generate.GenerationResult;
import ai.polyv.runtime.generate.Generator;
import ai.polyv.runtime.generate.Visual;
import ai.polyv.runtime.model.VisionInput;
import ai.polyv.runtime.preprocess.GoldenFile;
import ai.polyv.runtime.preprocess.RgbFrames;
import ai.polyv.runtime.scene.MultiViewScene;
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
 * The embedding API on tiny-a (no tokenizer: raw prompt ids): golden raw frames go in as
 * {@link Visual}s, and the generated ids equal the golden greedy ids exactly.
 */
class PolyVGoldenTest {

    static final Path TINY_A = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a");
    private static final GoldenFile G = GoldenFile.open("tiny-a");
    private static PolyV polyv;

    @BeforeAll
    static void load() {
        polyv = PolyV.load(TINY_A, new CpuBackend(2));
    }

    @AfterAll
    static void close() {
        polyv.close();
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    /** A golden case's visual inputs as API visuals (frames in memory), image0 then video0 as in golden.json. */
    static List<Visual> visualsOf(String c) {
        List<Visual> out = new ArrayList<>();
        for (String kind : new String[] {"image", "video"}) {
            String p = c + "." + kind + "0.";
            if (!G.names().contains(p + "frames_u8")) continue;
            int[] s = G.shape(p + "frames_u8");
            RgbFrames f = new RgbFrames(s[0], s[1], s[2], G.u8(p + "frames_u8"));
            if (kind.equals("image")) {
                out.add(new Visual.Image(f));
            } else if (G.names().contains(p + "depth")) {
                int views = s[0];
                float[] k = G.f32(p + "intrinsics"), b = G.f32(p + "extrinsics");
                double[][] kk = new double[views][9], bb = new double[views][16];
                for (int v = 0; v < views; v++) {
                    for (int i = 0; i < 9; i++) kk[v][i] = k[v * 9 + i];
                    for (int i = 0; i < 16; i++) bb[v][i] = b[v * 16 + i];
                }
                out.add(new Visual.Scene(new MultiViewScene(f, G.f32(p + "depth"), kk, bb)));
            } else {
                // fps such that one temporal grid step (2 frames) covers second_per_grid_ts seconds
                out.add(new Visual.Video(f, 2.0 / G.f32(c + ".second_per_grid_ts")[0]));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"text", "image", "video", "multiview3d", "mixed"})
    void greedyIdsMatchGolden(String c) {
        int[] prompt = ints(G.i64(c + ".input_ids"));
        int[] expected = ints(G.i64(c + ".greedy_ids"));
        GenerationRequest.Builder b = GenerationRequest.builderOfIds(prompt).maxNewTokens(expected.length).greedy().noDefaultStopTokens();
        visualsOf(c).forEach(b::visual);
        List<Integer> streamed = new ArrayList<>();
        List<String> pieces = new ArrayList<>();
        GenerationResult r = polyv.generate(b.build(), (id, text) -> {
            streamed.add(id);
            pieces.add(text);
        });
        assertArrayEquals(expected, r.ids(), c + " greedy ids");
        assertEquals(Arrays.stream(expected).boxed().toList(), streamed);
        assertTrue(pieces.stream().allMatch(String::isEmpty), "no tokenizer: empty text pieces");
        assertEquals("", r.text());
        assertArrayEquals(prompt, r.promptIds());
        assertEquals(Generator.StopReason.MAX_NEW_TOKENS, r.stopReason());
        assertEquals(prompt.length, r.timings().promptTokens());
        assertEquals(expected.length - 1, r.timings().decodeSteps());
        List<VisionInput.GridThw> grids = new ArrayList<>();
        for (String kind : new String[] {"image", "video"}) {
            if (!G.names().contains(c + "." + kind + "0.grid_thw")) continue;
            long[] g = G.i64(c + "." + kind + "0.grid_thw");
            grids.add(new VisionInput.GridThw((int) g[0], (int) g[1], (int) g[2]));
        }
        assertEquals(grids, r.grids(), "patch grids of the preprocessed visuals");
        if (!r.grids().isEmpty()) assertTrue(r.timings().visionNanos() > 0 && r.timings().visionNanos() < r.timings().prefillNanos());
    }

    /**
     * All five golden cases (text, image, video, 3D scene, mixed: different lengths, modalities and M-RoPE
     * deltas) in one call: decoded together, five at once or two at a time with continuous batching
     * (a finished request's slot is refilled), each request still gets exactly its golden greedy ids.
     */
    @ParameterizedTest
    @ValueSource(ints = {5, 2})
    void batchedRequestsGetTheirGoldenIds(int maxBatch) {
        String[] cases = {"text", "image", "video", "multiview3d", "mixed"};
        List<GenerationRequest> requests = new ArrayList<>();
        int[][] expected = new int[cases.length][];
        for (int i = 0; i < cases.length; i++) {
            expected[i] = ints(G.i64(cases[i] + ".greedy_ids"));
            // budgets differ so that requests end at different steps
            int budget = expected[i].length - i;
            expected[i] = Arrays.copyOf(expected[i], budget);
            GenerationRequest.Builder b = GenerationRequest.builderOfIds(ints(G.i64(cases[i] + ".input_ids"))).maxNewTokens(budget).greedy()
                    .noDefaultStopTokens();
            visualsOf(cases[i]).forEach(b::visual);
            requests.add(b.build());
        }
        List<List<Integer>> streamed = new ArrayList<>();
        for (String c : cases) streamed.add(new ArrayList<>());
        List<GenerationResult> rs = polyv.generate(requests, maxBatch, (request, id, text) -> streamed.get(request).add(id));
        assertEquals(cases.length, rs.size());
        for (int i = 0; i < cases.length; i++) {
            assertArrayEquals(expected[i], rs.get(i).ids(), cases[i] + " greedy ids in a batch of " + maxBatch);
            assertEquals(Arrays.stream(expected[i]).boxed().toList(), streamed.get(i), cases[i] + " streamed ids");
            assertEquals(expected[i].length - 1, rs.get(i).timings().decodeSteps());
            assertEquals(Generator.StopReason.MAX_NEW_TOKENS, rs.get(i).stopReason());
        }
    }

    @Test
    void extraStopTokenEndsGeneration() {
        int[] prompt = ints(G.i64("text.input_ids"));
        int[] golden = ints(G.i64("text.greedy_ids"));
        int stop = golden[3];
        GenerationResult r = polyv.generate(GenerationRequest.builderOfIds(prompt).maxNewTokens(golden.length).stopToken(stop).build());
        assertEquals(Generator.StopReason.STOP_TOKEN, r.stopReason());
        int first = 0;
        while (golden[first] != stop) first++;
        assertArrayEquals(Arrays.copyOf(golden, first), r.ids());
    }

    @Test
    void chatPromptNeedsATokenizer() {
        var e = assertThrows(IllegalArgumentException.class, () -> polyv.generate(GenerationRequest.of("hello")));
        assertTrue(e.getMessage().contains("has no tokenizer"), e.getMessage());
    }
}

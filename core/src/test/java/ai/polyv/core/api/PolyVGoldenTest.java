package ai.polyv.core.api;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Generator;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.GoldenFile;
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

    static final Path TINY_A = SharedData.golden("tiny-a");
    private static final GoldenFile G = GoldenCases.G;
    private static PolyV polyv;

    @BeforeAll
    static void load() {
        polyv = PolyV.load(TINY_A, new CpuBackend(2));
    }

    @AfterAll
    static void close() {
        polyv.close();
    }


    @ParameterizedTest
    @ValueSource(strings = {"text", "image", "video", "multiview3d", "mixed"})
    void greedyIdsMatchGolden(String c) {
        int[] prompt = GoldenCases.ints(G.i64(c + ".input_ids"));
        int[] expected = GoldenCases.ints(G.i64(c + ".greedy_ids"));
        GenerationRequest.Builder b = GenerationRequest.builderOfIds(prompt).maxNewTokens(expected.length).greedy().noDefaultStopTokens();
        GoldenCases.visualsOf(c).forEach(b::visual);
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
        GoldenCases.assertBatchedGreedyIds(polyv, maxBatch);
    }

    @Test
    void extraStopTokenEndsGeneration() {
        int[] prompt = GoldenCases.ints(G.i64("text.input_ids"));
        int[] golden = GoldenCases.ints(G.i64("text.greedy_ids"));
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

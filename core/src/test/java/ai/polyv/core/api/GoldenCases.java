package ai.polyv.core.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.core.PolyV;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Generator;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.scene.MultiViewScene;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The tiny-a golden cases as API requests, shared by the CPU and CUDA API tests. */
public final class GoldenCases {
    private GoldenCases() {}

    public static final GoldenFile G = GoldenFile.open("tiny-a");
    public static final String[] CASES = {"text", "image", "video", "multiview3d", "mixed"};

    public static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    /** A golden case's visual inputs as API visuals (frames in memory), image0 then video0 as in golden.json. */
    public static List<Visual> visualsOf(String c) {
        List<Visual> out = new ArrayList<>();
        for (String kind : new String[] {"image", "video"}) {
            String p = c + "." + kind + "0.";
            if (!G.names().contains(p + "frames_u8")) continue;
            int[] s = G.shape(p + "frames_u8");
            RgbFrames f = new RgbFrames(s[0], s[1], s[2], G.u8(p + "frames_u8"));
            if (kind.equals("image")) {
                out.add(new Visual.Image(f));
            } else if (G.names().contains(p + "depth")) {
                out.add(new Visual.Scene(scene(p, f)));
            } else {
                // fps such that one temporal grid step (2 frames) covers second_per_grid_ts seconds
                out.add(new Visual.Video(f, 2.0 / G.f32(c + ".second_per_grid_ts")[0]));
            }
        }
        return out;
    }

    /** The multi-view scene of a golden input (tensors {@code prefix + "depth" / "intrinsics" / "extrinsics"}) over its frames. */
    public static MultiViewScene scene(String prefix, RgbFrames frames) {
        int views = frames.frames();
        float[] k = G.f32(prefix + "intrinsics"), b = G.f32(prefix + "extrinsics");
        double[][] kk = new double[views][9], bb = new double[views][16];
        for (int v = 0; v < views; v++) {
            for (int i = 0; i < 9; i++) kk[v][i] = k[v * 9 + i];
            for (int i = 0; i < 16; i++) bb[v][i] = b[v * 16 + i];
        }
        return new MultiViewScene(frames, G.f32(prefix + "depth"), kk, bb);
    }

    /**
     * Runs the five cases as one batch of greedy requests (case {@code i} with its golden budget minus {@code i}, so
     * they end at different steps) through {@code polyv}, {@code maxBatch} at a time, and asserts the golden ids.
     */
    public static void assertBatchedGreedyIds(PolyV polyv, int maxBatch) {
        List<GenerationRequest> requests = new ArrayList<>();
        int[][] expected = new int[CASES.length][];
        for (int i = 0; i < CASES.length; i++) {
            expected[i] = ints(G.i64(CASES[i] + ".greedy_ids"));
            int budget = expected[i].length - i;
            expected[i] = Arrays.copyOf(expected[i], budget);
            GenerationRequest.Builder b = GenerationRequest.builderOfIds(ints(G.i64(CASES[i] + ".input_ids"))).maxNewTokens(budget).greedy()
                    .noDefaultStopTokens();
            visualsOf(CASES[i]).forEach(b::visual);
            requests.add(b.build());
        }
        List<List<Integer>> streamed = new ArrayList<>();
        for (String c : CASES) streamed.add(new ArrayList<>());
        List<GenerationResult> rs = polyv.generate(requests, maxBatch, (request, id, text) -> streamed.get(request).add(id));
        assertEquals(CASES.length, rs.size());
        for (int i = 0; i < CASES.length; i++) {
            assertArrayEquals(expected[i], rs.get(i).ids(), CASES[i] + " greedy ids in a batch of " + maxBatch + " on " + polyv.backend().name());
            assertEquals(Arrays.stream(expected[i]).boxed().toList(), streamed.get(i), CASES[i] + " streamed ids");
            assertEquals(expected[i].length - 1, rs.get(i).timings().decodeSteps());
            assertEquals(Generator.StopReason.MAX_NEW_TOKENS, rs.get(i).stopReason());
        }
    }
}

package ai.polyv.core.generate;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.PrefixCache;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.core.sampling.SamplingOptions;
import ai.polyv.core.sampling.StopTokens;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A conversation's second turn through a batch with a prefix cache: the same ids as without one, its prefix not prefilled again. */
class PrefixCacheGenerationTest {
    static final GoldenFile G = GoldenFile.open("tiny-a");

    @Test
    void secondTurnReusesTheFirstTurnsRowsAndGivesTheSameIds() {
        try (CpuBackend be = new CpuBackend(2);
             PolyVModel model = PolyVModel.load(SharedData.golden("tiny-a"), be)) {
            int[] prompt = Arrays.stream(G.i64("image.input_ids")).mapToInt(Math::toIntExact).toArray();
            int[] s = G.shape("image.image0.frames_u8");
            VisionInput image = new VisionPreprocessor().image(new RgbFrames(1, s[1], s[2], G.u8("image.image0.frames_u8")));
            Generator gen = new Generator(model);
            Generator.Job first = new Generator.Job(prompt, List.of(image), 6, SamplingOptions.GREEDY, StopTokens.of());
            int[] answer = gen.generate(List.of(first), 1, IdListener.NONE).get(0).tokens();
            assertArrayEquals(Arrays.stream(G.i64("image.greedy_ids")).mapToInt(Math::toIntExact).limit(6).toArray(), answer);
            // turn 2: the whole first turn, its answer, then new text (the same picture is sent again)
            int[] second = Arrays.copyOf(prompt, prompt.length + answer.length + 3);
            System.arraycopy(answer, 0, second, prompt.length, answer.length);
            second[second.length - 3] = 21;
            second[second.length - 2] = 22;
            second[second.length - 1] = 23;
            Generator.Job next = new Generator.Job(second, List.of(image), 5, SamplingOptions.GREEDY, StopTokens.of());
            int[] want = gen.generate(List.of(next), 1, IdListener.NONE).get(0).tokens();

            try (PrefixCache cache = new PrefixCache(4, 8); Generator.Batch batch = gen.newBatch(cache)) {
                int[] got1 = run(batch, 0, first);
                assertArrayEquals(answer, got1);
                assertEquals(1, cache.size(), "the finished session is kept");
                int[] got2 = run(batch, 1, next);
                assertArrayEquals(want, got2, "turn 2 with the reused prefix");
                // the first turn's session fed its prompt and all but the last answer token: those rows are reused
                assertEquals(prompt.length + answer.length - 1, batch.reusedRows());
                assertTrue(cache.size() >= 1);
            }
        }
    }

    /** Chunked prefill: the golden cases, prompts fed 5 tokens per step while the others decode, still give the golden ids. */
    @Test
    void chunkedPrefillGivesTheGoldenIds() {
        try (CpuBackend be = new CpuBackend(2);
             PolyVModel model = PolyVModel.load(SharedData.golden("tiny-a"), be)) {
            String[] cases = {"text", "image", "video", "mixed"};
            List<Generator.Job> jobs = new java.util.ArrayList<>();
            for (String c : cases) {
                int[] p = Arrays.stream(G.i64(c + ".input_ids")).mapToInt(Math::toIntExact).toArray();
                jobs.add(new Generator.Job(p, GeneratorGoldenTest.visionOfGolden(c, model), G.i64(c + ".greedy_ids").length, SamplingOptions.GREEDY,
                        StopTokens.of()));
            }
            Generator gen = new Generator(model);
            try (Generator.Batch batch = gen.newBatch(null, 5)) {
                int[][] got = new int[cases.length][];
                batch.admit(0, jobs.get(0));                                   // the text case starts decoding first
                int admitted = 1, done = 0;
                while (done < cases.length) {
                    if (admitted < cases.length) batch.admit(admitted, jobs.get(admitted++));   // the others arrive one step apart
                    for (Generator.Batch.Finished f : batch.step(IdListener.NONE)) {
                        got[f.id()] = f.result().tokens();
                        done++;
                    }
                }
                for (int i = 0; i < cases.length; i++) {
                    assertArrayEquals(Arrays.stream(G.i64(cases[i] + ".greedy_ids")).mapToInt(Math::toIntExact).toArray(), got[i], cases[i]);
                }
                assertTrue(batch.prefillPieces() > 0, "prompts were fed in pieces");
            }
        }
    }

    private static int[] run(Generator.Batch batch, int id, Generator.Job job) {
        batch.admit(id, job);
        while (true) {
            for (Generator.Batch.Finished f : batch.step(IdListener.NONE)) if (f.id() == id) return f.result().tokens();
        }
    }
}

package ai.polyv.core.model;

import static ai.polyv.testsupport.RelativeError.relL2;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.VisionPreprocessor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reusing a finished session's KV rows for a prompt that starts like it (the next chat turn): truncate / copy the
 * prefix, extend with the new text, and the logits equal a fresh prefill of the whole prompt; the vision runs in the
 * prefix must hold the same picture (tiny-a's golden image case).
 */
class PrefixReuseTest {
    static CpuBackend be;
    static PolyVModel model;
    static int[] prompt;
    static VisionInput image;
    static final GoldenFile G = GoldenFile.open("tiny-a");

    @BeforeAll
    static void load() {
        be = new CpuBackend(2);
        model = PolyVModel.load(SharedData.golden("tiny-a"), be);
        prompt = Arrays.stream(G.i64("image.input_ids")).mapToInt(Math::toIntExact).toArray();
        int[] s = G.shape("image.image0.frames_u8");
        image = new VisionPreprocessor().image(new RgbFrames(1, s[1], s[2], G.u8("image.image0.frames_u8")));
    }

    @AfterAll
    static void close() {
        model.close();
        be.close();
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    /** A session that prefilled the image prompt and decoded 4 greedy tokens (its tokens: prompt + 4). */
    static Session firstTurn(int capacity) {
        Session s = model.newSession(capacity);
        int next = argmax(s.prefill(prompt, List.of(image)));
        for (int i = 0; i < 4; i++) next = argmax(s.decode(next));
        return s;
    }

    static float[] fresh(int[] ids) {
        try (Session s = model.newSession(ids.length + 2)) {
            return s.prefill(ids, List.of(image));
        }
    }

    @Test
    void extendingAReusedPrefixEqualsAFreshPrefill() {
        try (Session a = firstTurn(prompt.length + 20)) {
            int[] cached = a.tokens();
            assertEquals(prompt.length + 4, cached.length);
            int[] next = Arrays.copyOf(cached, cached.length + 5);              // the next turn: all of it, then 5 text tokens
            for (int i = 0; i < 5; i++) next[cached.length + i] = 40 + i;
            float[] want = fresh(next);
            assertEquals(cached.length, PrefixCache.usableRows(a, next, List.of(image), model.dims()));

            try (Session b = model.newSession(next.length + 3)) {               // copied into a larger session
                b.copyPrefix(a, cached.length);
                float[] got = b.extend(Arrays.copyOfRange(next, cached.length, next.length));
                assertTrue(relL2(got, want) < 1e-5, "copyPrefix + extend: " + relL2(got, want));
                assertArrayEquals(next, b.tokens());
                float[] step = b.decode(7);
                try (Session c = model.newSession(next.length + 3)) {
                    c.prefill(next, List.of(image));
                    assertTrue(relL2(step, c.decode(7)) < 1e-5, "the decode step after the reused prefix");
                }
            }
            a.truncate(prompt.length - 3);                                       // in place, cut inside the prompt's text
            int[] other = Arrays.copyOf(prompt, prompt.length + 2);
            other[prompt.length] = 11;
            other[prompt.length + 1] = 12;
            float[] got = a.extend(Arrays.copyOfRange(other, prompt.length - 3, other.length));
            float[] want2 = fresh(other);
            assertTrue(relL2(got, want2) < 1e-5, "truncate + extend: " + relL2(got, want2));
        }
    }

    @Test
    void anotherPictureOrVisionAfterThePrefixIsNotReused() {
        try (Session a = firstTurn(prompt.length + 10)) {
            int[] next = Arrays.copyOf(a.tokens(), a.tokens().length + 1);
            next[next.length - 1] = 9;
            float[] px = image.pixelValues().clone();
            px[0] += 1;
            VisionInput changed = new VisionInput(image.kind(), px, image.grid(), image.secondsPerGrid(), null);
            int start = a.visionStarts()[0];
            // the picture differs: the prefix stops where its run starts, and the run is encoded with the rest of the prompt
            assertEquals(start, PrefixCache.usableRows(a, next, List.of(changed), model.dims()));
            assertEquals(0, PrefixCache.usableRows(a, next, List.of(), model.dims()), "the prompt's vision inputs must match its placeholders");
            var cut = assertThrows(IllegalArgumentException.class, () -> a.truncate(start + 2));
            assertTrue(cut.getMessage().contains("cuts through vision run 0"), cut.getMessage());
            var vis = assertThrows(IllegalArgumentException.class, () -> a.extend(new int[] {model.dims().tokens().imageTokenId()}));
            assertTrue(vis.getMessage().contains("more image/vision placeholder segments than the 0 vision inputs"), vis.getMessage());
            // a prefix cut before the changed picture, extended with it, equals a fresh prefill
            float[] want;
            try (Session f = model.newSession(next.length + 1)) {
                want = f.prefill(next, List.of(changed));
            }
            a.truncate(start);
            float[] got = a.extend(Arrays.copyOfRange(next, start, next.length), List.of(changed));
            assertTrue(relL2(got, want) < 1e-5, "truncate before the run + extend with the picture: " + relL2(got, want));
        }
    }

    /**
     * The next turn of a chat that sends a second picture: the first turn (image prompt + answer) is reused, and the new
     * turn's text and vision run (a picture of another size, so another grid) are fed by extend; the logits, the decode
     * step after it and the M-RoPE positions equal a fresh prefill of the whole two-image conversation.
     */
    @Test
    void aNewTurnWithItsOwnPictureExtendsTheReusedPrefixExactly() {
        VisionInput second = new VisionPreprocessor().image(ai.polyv.core.demo.DemoImage.create(56, 84));
        int merged = second.grid().mergedTokens(model.dims().vision().mergeSize());
        ModelDims.Tokens t = model.dims().tokens();
        try (Session a = firstTurn(prompt.length + 40 + merged)) {
            int[] cached = a.tokens();
            // turn 2: the first turn, "text <|vision_start|> pads <|vision_end|> text"
            int[] next = Arrays.copyOf(cached, cached.length + merged + 6);
            int k = cached.length;
            next[k++] = 40;
            next[k++] = 41;
            next[k++] = t.visionStartTokenId();
            for (int i = 0; i < merged; i++) next[k++] = t.imageTokenId();
            next[k++] = t.visionEndTokenId();
            next[k++] = 42;
            next[k] = 43;
            List<VisionInput> both = List.of(image, second);
            float[] want, wantStep;
            MropePositions whole = MropePositions.compute(next, both, model.dims());
            try (Session f = model.newSession(next.length + 1)) {
                want = f.prefill(next, both);
                wantStep = f.decode(7);
            }
            assertEquals(cached.length, PrefixCache.usableRows(a, next, both, model.dims()), "the whole first turn is reused");
            float[] got = a.extend(Arrays.copyOfRange(next, cached.length, next.length), List.of(second));
            assertTrue(relL2(got, want) < 1e-5, "reused prefix + extend with the second picture: " + relL2(got, want));
            assertEquals(argmax(want), argmax(got));
            assertArrayEquals(next, a.tokens());
            assertArrayEquals(whole.segments(), a.visionStarts(), "both runs are where a fresh prefill has them");
            assertEquals(both, a.visionInputs());
            float[] step = a.decode(7);
            assertTrue(relL2(step, wantStep) < 1e-5, "the decode step continues at the fresh prefill's position: " + relL2(step, wantStep));
            // the positions extend uses for the new part are the tail of the whole conversation's
            MropePositions tail = MropePositions.compute(Arrays.copyOfRange(next, cached.length, next.length), List.of(second), model.dims(),
                    nextAfterPrompt(cached.length, whole));
            for (int ax = 0; ax < 3; ax++) {
                assertArrayEquals(Arrays.copyOfRange(whole.pos()[ax], cached.length, next.length), tail.pos()[ax], "axis " + ax);
            }
            assertEquals(whole.next(), tail.next());
        }
    }

    /** max over the first {@code rows} positions + 1. */
    private static long nextAfterPrompt(int rows, MropePositions whole) {
        long max = -1;
        for (int ax = 0; ax < 3; ax++) for (int r = 0; r < rows; r++) max = Math.max(max, whole.pos()[ax][r]);
        return max + 1;
    }

    @Test
    void theCacheHandsOutTheLongestPrefixAndClosesTheOldest() {
        try (PrefixCache cache = new PrefixCache(2, 8)) {
            Session a = firstTurn(prompt.length + 10), b = model.newSession(20), c = model.newSession(20);
            b.prefill(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, List.of());
            c.prefill(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, List.of());
            cache.offer(a);
            cache.offer(b);
            cache.offer(c);                                                      // a is closed
            assertEquals(2, cache.size());
            assertThrows(IllegalStateException.class, () -> a.decode(1));
            PrefixCache.Hit hit = cache.take(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99, 100}, List.of(), model.dims());
            assertTrue(hit.session() == c, "the longer match wins");
            assertEquals(11, hit.rows());
            assertNull(cache.take(new int[] {1, 2, 3, 4, 5, 6, 7, 50, 51}, List.of(), model.dims()), "7 < minPrefix 8");
            assertEquals(1, cache.size());
            hit.session().close();
        }
    }
}

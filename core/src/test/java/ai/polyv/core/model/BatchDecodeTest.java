package ai.polyv.core.model;

import static ai.polyv.testsupport.RelativeError.relL2;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Session#decode(List, int[])} on tiny-a: sequences of different lengths stepped together give the
 * logits and greedy ids each gives alone (the batch changes only the matmul summation order), sessions can
 * join a running batch, and bad batches fail naming the session.
 */
class BatchDecodeTest {
    static CpuBackend be;
    static PolyVModel model;
    static final int[][] PROMPTS = {{1988, 17, 230, 1500, 42, 7, 99, 1023}, {5, 6, 7}, {1988, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 3}};
    static final int STEPS = 10;

    @BeforeAll
    static void load() {
        be = new CpuBackend(2);
        model = PolyVModel.load(SharedData.golden("tiny-a"), be);
    }

    @AfterAll
    static void close() {
        model.close();
        be.close();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Greedy ids and per-step logits of one prompt decoded alone. */
    static float[][] alone(int[] prompt, int[] idsOut, RoutingStats[] statsOut, int slot) {
        float[][] steps = new float[STEPS][];
        try (Session s = model.newSession(prompt.length + STEPS + 1)) {
            float[] logits = s.prefill(prompt, List.of());
            for (int i = 0; i < STEPS; i++) {
                idsOut[i] = argmax(logits);
                logits = s.decode(idsOut[i]);
                steps[i] = logits;
            }
            statsOut[slot] = s.routingStats();
        }
        return steps;
    }

    @Test
    void batchedStepsEqualEachSequenceAlone() {
        int b = PROMPTS.length;
        int[][] soloIds = new int[b][STEPS];
        float[][][] soloLogits = new float[b][][];
        RoutingStats[] soloStats = new RoutingStats[b];
        for (int i = 0; i < b; i++) soloLogits[i] = alone(PROMPTS[i], soloIds[i], soloStats, i);

        List<Session> sessions = new ArrayList<>();
        try {
            int[] next = new int[b];
            for (int i = 0; i < b; i++) {
                Session s = model.newSession(PROMPTS[i].length + STEPS + 1);
                sessions.add(s);
                next[i] = argmax(s.prefill(PROMPTS[i], List.of()));
            }
            double worst = 0;
            for (int step = 0; step < STEPS; step++) {
                for (int i = 0; i < b; i++) assertEquals(soloIds[i][step], next[i], "sequence " + i + " step " + step);
                float[][] logits = Session.decode(sessions, next);
                for (int i = 0; i < b; i++) {
                    worst = Math.max(worst, relL2(logits[i], soloLogits[i][step]));
                    next[i] = argmax(logits[i]);
                }
            }
            assertTrue(worst < 1e-5, "batched logits differ from solo decode by " + worst);
            for (int i = 0; i < b; i++) {
                assertEquals(PROMPTS[i].length + STEPS, sessions.get(i).length());
                for (int layer : soloStats[i].moeLayers()) {
                    assertArrayEquals(soloStats[i].tokensPerExpert(layer), sessions.get(i).routingStats().tokensPerExpert(layer),
                            "routing counts of sequence " + i + " layer " + layer);
                }
            }
        } finally {
            sessions.forEach(Session::close);
        }
    }

    @Test
    void batchedPrefillEqualsEachPromptAlone() {
        int b = PROMPTS.length;
        float[][] solo = new float[b][];
        for (int i = 0; i < b; i++) {
            try (Session s = model.newSession(PROMPTS[i].length + 4)) {
                solo[i] = s.prefill(PROMPTS[i], List.of());
            }
        }
        List<Session> sessions = new ArrayList<>();
        try {
            for (int[] p : PROMPTS) sessions.add(model.newSession(p.length + 4));
            float[][] got = Session.prefill(sessions, java.util.Arrays.asList(PROMPTS), java.util.Collections.nCopies(b, List.of()));
            int[] next = new int[b];
            for (int i = 0; i < b; i++) {
                assertTrue(relL2(got[i], solo[i]) < 1e-5, "prompt " + i + ": " + relL2(got[i], solo[i]));
                assertEquals(PROMPTS[i].length, sessions.get(i).length());
                next[i] = argmax(got[i]);
            }
            // the caches hold what a solo prefill writes: the next step equals solo decode
            float[][] step = Session.decode(sessions, next);
            for (int i = 0; i < b; i++) {
                try (Session s = model.newSession(PROMPTS[i].length + 4)) {
                    s.prefill(PROMPTS[i], List.of());
                    float[] want = s.decode(next[i]);
                    assertTrue(relL2(step[i], want) < 1e-5, "step after prefill, prompt " + i);
                }
            }
            var again = assertThrows(IllegalStateException.class,
                    () -> Session.prefill(sessions.subList(0, 1), List.of(PROMPTS[0]), List.of(List.of())));
            assertTrue(again.getMessage().contains("already prefilled"), again.getMessage());
        } finally {
            sessions.forEach(Session::close);
        }
        try (Session a = model.newSession(8); Session c = model.newSession(8)) {
            var bad = assertThrows(IllegalArgumentException.class,
                    () -> Session.prefill(List.of(a, c), List.of(new int[] {1, 2}, new int[] {1, 4096}), List.of(List.of(), List.of())));
            assertTrue(bad.getMessage().startsWith("session 1 of the prefill batch: token id 4096 at position 1"), bad.getMessage());
            assertEquals(0, a.length(), "nothing ran");
        }
    }

    @Test
    void aSessionCanJoinARunningBatch() {
        int[] soloA = new int[STEPS], soloB = new int[STEPS];
        RoutingStats[] st = new RoutingStats[2];
        alone(PROMPTS[0], soloA, st, 0);
        alone(PROMPTS[1], soloB, st, 1);
        try (Session a = model.newSession(PROMPTS[0].length + STEPS + 1); Session bs = model.newSession(PROMPTS[1].length + STEPS + 1)) {
            int nextA = argmax(a.prefill(PROMPTS[0], List.of()));
            List<Integer> gotA = new ArrayList<>(), gotB = new ArrayList<>();
            for (int i = 0; i < 4; i++) {          // a alone for 4 steps
                gotA.add(nextA);
                nextA = argmax(a.decode(nextA));
            }
            int nextB = argmax(bs.prefill(PROMPTS[1], List.of()));
            for (int i = 0; i < STEPS - 4; i++) {   // then both together; b is behind and shorter
                gotA.add(nextA);
                gotB.add(nextB);
                float[][] l = Session.decode(List.of(bs, a), new int[] {nextB, nextA});
                nextB = argmax(l[0]);
                nextA = argmax(l[1]);
            }
            assertEquals(java.util.Arrays.stream(soloA).boxed().toList(), gotA);
            assertEquals(java.util.Arrays.stream(soloB).limit(STEPS - 4).boxed().toList(), gotB);
        }
    }

    @Test
    void badBatchesFailNamingTheSession() {
        try (Session a = model.newSession(10); Session b = model.newSession(10); Session fresh = model.newSession(10)) {
            a.prefill(PROMPTS[1], List.of());
            b.prefill(PROMPTS[1], List.of());
            var twice = assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(a, b, a), new int[] {1, 2, 3}));
            assertEquals("session 2 of the decode batch appears twice", twice.getMessage());
            var count = assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(a, b), new int[] {1}));
            assertEquals("decode batch of 2 sessions got 1 token ids", count.getMessage());
            var notPrefilled = assertThrows(IllegalStateException.class, () -> Session.decode(List.of(a, fresh), new int[] {1, 2}));
            assertEquals("decode before prefill (session 1 of the batch)", notPrefilled.getMessage());
            var vocab = assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(a, b), new int[] {1, 2048}));
            assertTrue(vocab.getMessage().startsWith("session 1 of the batch: token id 2048 at position 3 is outside the vocabulary"),
                    vocab.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(), new int[0]));
            assertEquals(3, a.length(), "a failed batch leaves every session as it was");
            assertEquals(3, b.length());
            for (int i = 3; i < 10; i++) Session.decode(List.of(a, b), new int[] {1, 2});
            var full = assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(b, a), new int[] {1, 2}));
            assertEquals("session 0 of the batch is full: 10 tokens = maxTokens", full.getMessage());
        }
        Session closed = model.newSession(8);
        closed.prefill(PROMPTS[1], List.of());
        closed.close();
        closed.close();                                    // idempotent
        assertEquals("the session is closed", assertThrows(IllegalStateException.class, () -> closed.decode(1)).getMessage());
        CpuBackend other = new CpuBackend(1);
        try (PolyVModel m2 = PolyVModel.load(SharedData.golden("tiny-a"), other);
             Session a = model.newSession(8); Session c = m2.newSession(8)) {
            a.prefill(PROMPTS[1], List.of());
            c.prefill(PROMPTS[1], List.of());
            var e = assertThrows(IllegalArgumentException.class, () -> Session.decode(List.of(a, c), new int[] {1, 2}));
            assertEquals("session 1 of the decode batch belongs to another model", e.getMessage());
        } finally {
            other.close();
        }
    }
}

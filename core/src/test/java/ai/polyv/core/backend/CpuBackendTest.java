package ai.polyv.core.backend;

import static ai.polyv.testsupport.RelativeError.relL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.cpu.Erf;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each CpuBackend op against its scalar statement in {@link ReferenceOps}, on awkward sizes. */
class CpuBackendTest {
    static CpuBackend be;
    final Random rnd = new Random(42);

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    float[] randn(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }


    @Test
    void matmulWithBiasMatchesReferenceForF32AndBf16Weights() {
        for (int[] nkm : new int[][] {{1, 7, 3}, {13, 37, 11}, {5, 64, 96}}) {
            int n = nkm[0], k = nkm[1], m = nkm[2];
            try (Workspace ws = be.workspace(); Arena arena = Arena.ofShared()) {
                Tensor x = ws.f32(randn(n * k), n, k);
                Tensor w = ws.f32(randn(m * k), m, k);
                Tensor b = ws.f32(randn(m), m);
                Tensor out = ws.f32(n, m), ref = ws.f32(n, m);
                be.fill(out, Float.NaN); // poison: every element must be written
                be.matmul(x, w, b, out);
                ReferenceOps.matmul(x, w, b, ref);
                assertTrue(relL2(out.toFloatArray(), ref.toFloatArray()) < 1e-6);
                // BF16 copy of the weight
                MemorySegment bf = arena.allocate(2L * m * k);
                float[] wf = w.toFloatArray();
                for (int i = 0; i < wf.length; i++) bf.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(wf[i]) >>> 16));
                Tensor wb = be.weight(DType.BF16, bf, m, k);
                be.matmul(x, wb, null, out);
                ReferenceOps.matmul(x, wb, null, ref);
                assertTrue(relL2(out.toFloatArray(), ref.toFloatArray()) < 1e-6);
            }
        }
    }

    @Test
    void copyWritesOneViewIntoAnotherAndChecksTheShape() {
        try (Workspace ws = be.workspace()) {
            float[] src = randn(3 * 5), dst = randn(4 * 5);
            Tensor a = ws.f32(src, 3, 5), b = ws.f32(dst, 4, 5);
            be.copy(a.rows(1, 2), b.rows(2, 2));
            float[] got = b.toFloatArray();
            for (int i = 0; i < 10; i++) assertEquals(dst[i], got[i]);              // rows 0-1 untouched
            for (int i = 0; i < 10; i++) assertEquals(src[5 + i], got[10 + i]);     // rows 2-3 = a's rows 1-2
            assertThrows(IllegalArgumentException.class, () -> be.copy(a.rows(0, 2), b.rows(0, 1)));
        }
    }

    @Test
    void attentionSegmentsMatchesReferenceWithUnevenSegments() {
        int heads = 3, hd = 10, n = 23;
        int[] cu = {0, 1, 8, 17, 23};
        try (Workspace ws = be.workspace()) {
            Tensor q = ws.f32(randn(n * heads * hd), n, heads * hd), k = ws.f32(randn(n * heads * hd), n, heads * hd),
                    v = ws.f32(randn(n * heads * hd), n, heads * hd);
            Tensor out = ws.f32(n, heads * hd), ref = ws.f32(n, heads * hd);
            be.fill(out, Float.NaN);
            be.attentionSegments(q, k, v, out, heads, cu);
            ReferenceOps.attentionSegments(q, k, v, ref, heads, cu);
            assertTrue(relL2(out.toFloatArray(), ref.toFloatArray()) < 1e-6);
            // a segment of one token attends only to itself: output = its own value row
            float[] o = out.toFloatArray(), vv = v.toFloatArray();
            for (int c = 0; c < heads * hd; c++) assertEquals(vv[c], o[c], 1e-6);
        }
    }

    @Test
    void causalAttentionWithGqaAndCacheOffsetMatchesReference() {
        int heads = 6, kvh = 2, hd = 8, start = 5, n = 4, cap = 11;
        try (Workspace ws = be.workspace()) {
            Tensor q = ws.f32(randn(n * heads * hd), n, heads * hd);
            Tensor k = ws.f32(randn(cap * kvh * hd), cap, kvh * hd), v = ws.f32(randn(cap * kvh * hd), cap, kvh * hd);
            Tensor out = ws.f32(n, heads * hd), ref = ws.f32(n, heads * hd);
            be.fill(out, Float.NaN);
            be.attentionCausal(q, k, v, out, heads, kvh, start);
            ReferenceOps.attentionCausal(q, k, v, ref, heads, kvh, start);
            assertTrue(relL2(out.toFloatArray(), ref.toFloatArray()) < 1e-6);
            // rows past start+n must not influence the result
            Tensor k2 = ws.f32(k.toFloatArray(), cap, kvh * hd);
            k2.rows(start + n, cap - start - n).copyFrom(randn((cap - start - n) * kvh * hd));
            Tensor out2 = ws.f32(n, heads * hd);
            be.attentionCausal(q, k2, v, out2, heads, kvh, start);
            assertArrayEquals(out.toFloatArray(), out2.toFloatArray());
        }
    }

    @Test
    void attentionMatchesReferenceOnAwkwardSizes() {
        // [n queries, start, heads, kvHeads, hd]: 1 query, key counts below / off / past 4 and the vector length,
        // head dims 1, 16, 17, 80, 128, 161 (more than 8 vectors plus a tail)
        // from 4 queries on, blocks of up to 32 (BlockAttention): a block tail, several blocks, hd 1 and off 4
        int[][] causal = {{1, 0, 1, 1, 1}, {1, 6, 2, 1, 17}, {3, 0, 4, 2, 16}, {7, 30, 7, 1, 80}, {5, 37, 4, 4, 128}, {19, 0, 2, 1, 33}, {2, 3, 1, 1, 161},
                {4, 0, 1, 1, 1}, {33, 5, 2, 1, 80}, {70, 0, 4, 2, 64}, {40, 17, 3, 3, 7}};
        try (Workspace ws = be.workspace()) {
            for (int[] s : causal) {
                int n = s[0], start = s[1], heads = s[2], kvh = s[3], hd = s[4], ctx = start + n;
                Tensor q = ws.f32(randn(n * heads * hd), n, heads * hd);
                Tensor k = ws.f32(randn(ctx * kvh * hd), ctx, kvh * hd), v = ws.f32(randn(ctx * kvh * hd), ctx, kvh * hd);
                Tensor out = ws.f32(n, heads * hd), ref = ws.f32(n, heads * hd);
                be.attentionCausal(q, k, v, out, heads, kvh, start);
                ReferenceOps.attentionCausal(q, k, v, ref, heads, kvh, start);
                double e = relL2(out.toFloatArray(), ref.toFloatArray());
                assertTrue(e < 1e-6, "causal " + java.util.Arrays.toString(s) + ": rel err " + e);
            }
            // segments: one segment of 1, primes, one longer than the vector length
            int heads = 2, hd = 80;
            int[] cu = {0, 1, 4, 11, 48, 53, 120, 124};
            int n = cu[cu.length - 1];
            Tensor q = ws.f32(randn(n * heads * hd), n, heads * hd), k = ws.f32(randn(n * heads * hd), n, heads * hd),
                    v = ws.f32(randn(n * heads * hd), n, heads * hd);
            Tensor out = ws.f32(n, heads * hd), ref = ws.f32(n, heads * hd);
            be.attentionSegments(q, k, v, out, heads, cu);
            ReferenceOps.attentionSegments(q, k, v, ref, heads, cu);
            assertTrue(relL2(out.toFloatArray(), ref.toFloatArray()) < 1e-6);
        }
    }

    @Test
    void blockedAttentionIsBitwiseTheSameForAnyThreadCount() {
        int heads = 4, kvh = 2, hd = 80, n = 70, start = 9;
        int[] cu = {0, 5, 40, 70};
        float[] qs = randn(n * heads * hd), ks = randn((start + n) * kvh * hd), vs = randn((start + n) * kvh * hd), ss = randn(n * heads * hd);
        float[][] causal = new float[3][], segments = new float[3][];
        for (int t = 1; t <= 3; t++) {
            try (CpuBackend b = new CpuBackend(t); Workspace ws = b.workspace()) {
                Tensor q = ws.f32(qs, n, heads * hd), out = ws.f32(n, heads * hd);
                b.attentionCausal(q, ws.f32(ks, start + n, kvh * hd), ws.f32(vs, start + n, kvh * hd), out, heads, kvh, start);
                causal[t - 1] = out.toFloatArray();
                Tensor kk = ws.f32(ss, n, heads * hd);
                b.attentionSegments(q, kk, kk, out, heads, cu);
                segments[t - 1] = out.toFloatArray();
            }
        }
        assertArrayEquals(causal[0], causal[1]);
        assertArrayEquals(causal[0], causal[2]);
        assertArrayEquals(segments[0], segments[1]);
        assertArrayEquals(segments[0], segments[2]);
    }

    @Test
    void ropeMatchesReferenceBitForBitOnAwkwardSizes() {
        // [rows, heads, hd]: 1 row, hd/2 below / off / on the vector length, primes, a threaded size
        int[][] shapes = {{1, 1, 2}, {1, 3, 34}, {5, 7, 30}, {3, 2, 128}, {13, 5, 66}, {300, 4, 64}};
        try (Workspace ws = be.workspace()) {
            for (int[] s : shapes) {
                int n = s[0], heads = s[1], hd = s[2];
                float[] xs = randn(n * heads * hd), cos = randn(n * hd), sin = randn(n * hd);
                Tensor x = ws.f32(xs, n, heads * hd), ref = ws.f32(xs, n, heads * hd);
                Tensor c = ws.f32(cos, n, hd), sn = ws.f32(sin, n, hd);
                be.rope(x, heads, c, sn);
                ReferenceOps.rope(ref, heads, c, sn);
                assertArrayEquals(ref.toFloatArray(), x.toFloatArray(), "rope " + n + "x" + heads + "x" + hd);
            }
        }
    }

    @Test
    void ropeIsARotationAndIdentityAtPositionZero() {
        int n = 3, heads = 2, hd = 8;
        try (Workspace ws = be.workspace()) {
            float[] xs = randn(n * heads * hd);
            Tensor x = ws.f32(xs, n, heads * hd);
            float[] cos = new float[n * hd], sin = new float[n * hd];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < hd; c++) {
                    double a = r * 0.7 * (c % (hd / 2) + 1);
                    cos[r * hd + c] = (float) Math.cos(a);
                    sin[r * hd + c] = (float) Math.sin(a);
                }
            }
            be.rope(x, heads, ws.f32(cos, n, hd), ws.f32(sin, n, hd));
            float[] y = x.toFloatArray();
            for (int c = 0; c < heads * hd; c++) assertEquals(xs[c], y[c], 1e-7); // row 0: angle 0
            // rotate-half pairs (c, c+hd/2) keep their norm
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < hd / 2; c++) {
                    int a = r * heads * hd + c, b = a + hd / 2;
                    assertEquals(xs[a] * xs[a] + xs[b] * xs[b], y[a] * y[a] + y[b] * y[b], 1e-4);
                }
            }
            // second row, first pair, explicitly: x' = x*cos - x[c+half]*sin
            int a = heads * hd, b = a + hd / 2;
            assertEquals(xs[a] * cos[hd] - xs[b] * sin[hd], y[a], 1e-6);
        }
    }

    @Test
    void softmaxTopKMatchesReference() {
        // the CPU router is float32 (PyTorch's order), the reference double (the references' rule): ids equal,
        // weights within a few float32 roundings (softmax of at most 8 experts)
        // [rows, experts, k]: 1 row, 1 expert, primes, a threaded size (rows split over the threads)
        int[][] shapes = {{1, 1, 1}, {1, 5, 2}, {7, 13, 3}, {3000, 4, 2}, {2049, 8, 8}};
        try (Workspace ws = be.workspace()) {
            for (int[] s : shapes) {
                int n = s[0], m = s[1], k = s[2];
                float[] l = randn(n * m);
                for (int i = 0; i < l.length; i += 7) l[i] = l[Math.max(0, i - 1)];   // some exact ties
                Tensor logits = ws.f32(l, n, m);
                for (boolean renorm : new boolean[] {false, true}) {
                    int[] ids = new int[n * k], refIds = new int[n * k];
                    float[] w = new float[n * k], refW = new float[n * k];
                    be.softmaxTopK(logits, k, renorm, ids, w);
                    ReferenceOps.softmaxTopK(logits, k, renorm, refIds, refW);
                    assertArrayEquals(refIds, ids, "ids " + n + "x" + m + " k=" + k);
                    assertArrayEquals(refW, w, 1e-6f, "weights " + n + "x" + m + " k=" + k);
                }
            }
        }
    }

    @Test
    void topKTiesGoToTheLowerExpertAndRenormalisationIsOptional() {
        try (Workspace ws = be.workspace()) {
            // row 0: experts 1 and 3 tie for first, 0 and 2 tie for last; row 1: all equal
            Tensor logits = ws.f32(new float[] {0f, 2f, 0f, 2f, 1f, 1f, 1f, 1f}, 2, 4);
            int[] ids = new int[6];
            float[] w = new float[6];
            be.softmaxTopK(logits, 3, false, ids, w);
            assertArrayEquals(new int[] {1, 3, 0, 0, 1, 2}, ids);
            double e2 = Math.exp(2), sum = 2 * e2 + 2;
            assertEquals(e2 / sum, w[0], 1e-6);
            assertEquals(e2 / sum, w[1], 1e-6);
            assertEquals(1 / sum, w[2], 1e-6);
            assertEquals(0.25, w[3], 1e-6);
            be.softmaxTopK(logits, 3, true, ids, w);
            assertEquals(1.0, w[0] + w[1] + w[2], 1e-6);
            assertEquals(e2 / (2 * e2 + 1), w[0], 1e-6);
            assertEquals(1.0 / 3, w[5], 1e-6);
        }
    }

    @Test
    void rowMovementOps() {
        try (Workspace ws = be.workspace()) {
            Tensor src = ws.f32(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
            Tensor g = ws.f32(2, 2);
            be.gatherRows(src, new int[] {2, 0}, g);
            assertArrayEquals(new float[] {5, 6, 1, 2}, g.toFloatArray());
            Tensor s = ws.f32(new float[] {9, 9, 9, 9, 9, 9}, 3, 2);
            be.scatterRows(g, new int[] {1, 2}, s);
            assertArrayEquals(new float[] {9, 9, 5, 6, 1, 2}, s.toFloatArray());
            be.scatterAddScaled(g, new int[] {0, 0}, new float[] {0.5f, 2f}, s);
            assertArrayEquals(new float[] {9 + 2.5f + 2, 9 + 3 + 4, 5, 6, 1, 2}, s.toFloatArray());
            Tensor e = ws.f32(2, 2);
            be.embedding(src, new int[] {1, 1}, e);
            assertArrayEquals(new float[] {3, 4, 3, 4}, e.toFloatArray());
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> be.embedding(src, new int[] {0, 3}, e));
            assertTrue(ex.getMessage().contains("id 3 at position 1"), ex.getMessage());
        }
    }

    @Test
    void erfGeluMatchesKnownValues() {
        // erf(1) = 0.8427007929497149, erf(0.3) = 0.3286267594591112, erf(2.5) = 0.9995930479825550
        assertEquals(0.8427007929497149, Erf.erfRef(1.0), 1e-13);
        assertEquals(0.3286267594591112, Erf.erfRef(0.3), 1e-13);
        assertEquals(-0.9995930479825550, Erf.erfRef(-2.5), 1e-13);
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(new float[] {-3f, -1f, 0f, 0.5f, 1f, 4f}, 6);
            Tensor y = ws.f32(6), ref = ws.f32(6);
            be.gelu(x, y);
            ReferenceOps.gelu(x, ref);
            assertArrayEquals(ref.toFloatArray(), y.toFloatArray(), 1e-6f);
            assertEquals(0.8413447460685429, y.toFloatArray()[4], 1e-6);
        }
    }
}

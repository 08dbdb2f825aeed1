package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.TestData.*;
import static ai.polyv.testsupport.RelativeError.relL2;
import static org.junit.jupiter.api.Assertions.*;

import ai.polyv.core.cpu.TestData.Memory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every fast kernel against {@link ScalarKernels} on awkward sizes, heap and native segments. */
class CpuKernelsTest {

    private static CpuThreads threads;

    @BeforeAll
    static void start() {
        threads = new CpuThreads(3);   // more participants than cores on purpose: exercises the chunking
    }

    @AfterAll
    static void stop() {
        threads.close();
    }

    // [n, k, m]: 1 token, primes, sizes off the vector length and off the block sizes, a mid-size shape
    private static final int[][] MATMUL_SHAPES = {
            {1, 1, 1}, {1, 7, 5}, {1, 16, 16}, {1, 33, 17}, {1, 1031, 13}, {1, 257, 1024},
            {2, 3, 2}, {3, 17, 29}, {4, 64, 8}, {5, 100, 7}, {7, 31, 37}, {13, 1029, 11},
            {17, 521, 67}, {64, 128, 96}, {33, 2053, 9},
            // batched-decode sizes (BF16: SmallBatchGemm), x-row and weight-row tails
            {8, 1030, 77}, {6, 48, 6}, {31, 300, 9},
            // outer-product kernel (n >= 32): exact panels, panel tails, weight-row tails, k off the k-block
            {32, 1, 1}, {32, 16, 8}, {37, 300, 23}, {101, 77, 130}, {65, 513, 71},
    };

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void matmulMatchesReferenceHeapAndNative(WeightFormat wf) {
        Random rnd = new Random(42 + wf.ordinal());
        for (Memory mem : Memory.values()) {
            try (Arena arena = Arena.ofShared()) {
                for (int[] s : MATMUL_SHAPES) {
                    int n = s[0], k = s[1], m = s[2];
                    for (boolean withBias : new boolean[] {false, true}) {
                        MemorySegment x = randomF32(mem, arena, rnd, (long) n * k, 1f);
                        MemorySegment w = randomWeights(mem, arena, rnd, wf, (long) m * k, 0.5f);
                        MemorySegment bias = withBias ? randomF32(mem, arena, rnd, m, 1f) : null;
                        MemorySegment got = poisoned(mem, arena, (long) n * m);
                        MemorySegment want = poisoned(mem, arena, (long) n * m);
                        CpuKernels.matmul(threads, x, n, k, w, wf, m, bias, got);
                        ScalarKernels.matmul(threads, x, n, k, w, wf, m, bias, want);
                        String what = "matmul " + wf + " " + mem + " n=" + n + " k=" + k + " m=" + m + " bias=" + withBias;
                        float[] g = toArray(got, (long) n * m), e = toArray(want, (long) n * m);
                        // f32 accumulation of k products vs a double sum: error ~ sqrt(k) ulp of the partial sums
                        assertClose(what, g, e, 2e-6 * Math.sqrt(k), 1e-5);
                        assertTrue(relL2(g, e) < 1e-6, what + ": rel L2 " + relL2(g, e));
                        assertSentinel(got, (long) n * m);
                    }
                }
            }
        }
    }

    @Test
    void gemvRowOrdersGiveTheSameBits() {
        // short BF16 rows are read one at a time, long ones 4 rows per x load (CpuKernels.GEMV_ONE_ROW_MAX_K):
        // each row is the same fma chain either way, so the two orders agree bit for bit, bias included
        Random rnd = new Random(11);
        int[] ks = {1, 15, 17, 1029, CpuKernels.GEMV_ONE_ROW_MAX_K, CpuKernels.GEMV_ONE_ROW_MAX_K + 17};
        int[] ms = {1, 5, 37};
        try (Arena arena = Arena.ofShared()) {
            for (int k : ks) {
                for (int m : ms) {
                    MemorySegment x = randomF32(Memory.NATIVE, arena, rnd, k, 1f);
                    MemorySegment w = randomWeights(Memory.NATIVE, arena, rnd, WeightFormat.BF16, (long) m * k, 0.5f);
                    MemorySegment bias = randomF32(Memory.NATIVE, arena, rnd, m, 1f);
                    MemorySegment rows = poisoned(Memory.NATIVE, arena, m), groups = poisoned(Memory.NATIVE, arena, m);
                    CpuKernels.gemvBf16Rows(x, k, w, bias, rows, 0, m);
                    CpuKernels.gemvBf16(x, k, w, m, bias, groups, 0, (m + CpuKernels.GEMV_ROWS - 1) / CpuKernels.GEMV_ROWS);
                    assertArrayEquals(toArray(groups, m), toArray(rows, m), "k=" + k + " m=" + m);
                    assertSentinel(rows, m);
                }
            }
        }
    }

    @Test
    void matmulIsBitwiseTheSameForAnyThreadCount() {
        // each output element is summed by one thread in a fixed order: 1, 2 or 3 threads give the same bits
        Random rnd = new Random(7);
        int[][] shapes = {{300, 700, 200}, {33, 1029, 77}, {5, 257, 300}, {8, 1024, 1031}};
        try (Arena arena = Arena.ofShared(); CpuThreads one = new CpuThreads(1); CpuThreads two = new CpuThreads(2)) {
            for (int[] s : shapes) {
                int n = s[0], k = s[1], m = s[2];
                MemorySegment x = randomF32(Memory.NATIVE, arena, rnd, (long) n * k, 1f);
                MemorySegment w = randomWeights(Memory.NATIVE, arena, rnd, WeightFormat.BF16, (long) m * k, 0.5f);
                float[] ref = null;
                for (CpuThreads t : new CpuThreads[] {one, two, threads}) {
                    MemorySegment out = poisoned(Memory.NATIVE, arena, (long) n * m);
                    CpuKernels.matmul(t, x, n, k, w, WeightFormat.BF16, m, null, out);
                    float[] got = toArray(out, (long) n * m);
                    if (ref == null) ref = got;
                    else assertArrayEquals(ref, got, "n=" + n + " k=" + k + " m=" + m);
                }
            }
        }
    }

    @Test
    void matmulKnownValues() {
        // x [2, 3], w [2, 3] in bf16 (all exactly representable), bias [2]
        float[] xv = {1, 2, 3, -1, 0.5f, 4};
        float[] wv = {1, 0, -1, 0.25f, 2, 8};
        MemorySegment x = MemorySegment.ofArray(xv);
        MemorySegment w = MemorySegment.ofArray(new short[6]);
        for (int i = 0; i < 6; i++) WeightFormat.BF16.set(w, i, wv[i]);
        MemorySegment bias = MemorySegment.ofArray(new float[] {10, -1});
        float[] out = new float[4];
        CpuKernels.matmul(threads, x, 2, 3, w, WeightFormat.BF16, 2, bias, MemorySegment.ofArray(out));
        assertArrayEquals(new float[] {10 + 1 - 3, -1 + 0.25f + 4 + 24, 10 - 1 - 4, -1 - 0.25f + 1 + 32}, out);
    }

    @Test
    void matmulRejectsShortBuffers() {
        MemorySegment x = MemorySegment.ofArray(new float[6]);
        MemorySegment w = MemorySegment.ofArray(new float[5]);
        MemorySegment out = MemorySegment.ofArray(new float[4]);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> CpuKernels.matmul(threads, x, 2, 3, w, WeightFormat.F32, 2, null, out));
        assertTrue(ex.getMessage().contains("w [m=2, k=3]"), ex.getMessage());
    }

    @Test
    void matmulRejectsConfinedSegments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(4 * 4);
            MemorySegment w = MemorySegment.ofArray(new float[4]);
            MemorySegment out = MemorySegment.ofArray(new float[1]);
            var ex = assertThrows(IllegalArgumentException.class,
                    () -> CpuKernels.matmul(threads, x, 1, 4, w, WeightFormat.F32, 1, null, out));
            assertTrue(ex.getMessage().contains("segment x is confined"), ex.getMessage());
        }
    }

    private static final int[] COUNTS = {1, 2, 7, 15, 16, 17, 31, 64, 97, 1000, 4099};

    @ParameterizedTest
    @EnumSource(Memory.class)
    void elementwiseMatchReference(Memory mem) {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofShared()) {
            for (int count : COUNTS) {
                MemorySegment a = randomF32(mem, arena, rnd, count, 6f);
                MemorySegment b = randomF32(mem, arena, rnd, count, 3f);
                MemorySegment got = poisoned(mem, arena, count), want = poisoned(mem, arena, count);

                CpuKernels.siluMul(a, b, count, got);
                ScalarKernels.siluMul(a, b, count, want);
                assertClose("siluMul " + count, toArray(got, count), toArray(want, count), 1e-6, 2e-6);
                assertSentinel(got, count);

                CpuKernels.geluErf(a, count, got);
                ScalarKernels.geluErf(a, count, want);
                assertClose("geluErf " + count, toArray(got, count), toArray(want, count), 5e-7, 2e-6);
                assertSentinel(got, count);

                CpuKernels.add(a, b, count, got);
                ScalarKernels.add(a, b, count, want);
                assertArrayEquals(toArray(want, count), toArray(got, count), "add " + count);
                assertSentinel(got, count);

                CpuKernels.scale(a, count, -0.37f, got);
                ScalarKernels.scale(a, count, -0.37f, want);
                assertArrayEquals(toArray(want, count), toArray(got, count), "scale " + count);
                assertSentinel(got, count);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void rmsNormAndSoftmaxMatchReference(Memory mem) {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 1}, {1, 17}, {3, 16}, {5, 33}, {2, 1280}, {7, 3584}, {1, 4099}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int rows = s[0], dim = s[1];
                long count = (long) rows * dim;
                MemorySegment x = randomF32(mem, arena, rnd, count, 4f);
                MemorySegment wt = randomF32(mem, arena, rnd, dim, 2f);
                MemorySegment got = poisoned(mem, arena, count), want = poisoned(mem, arena, count);
                CpuKernels.rmsNorm(x, rows, dim, wt, 1e-6f, got);
                ScalarKernels.rmsNorm(x, rows, dim, wt, 1e-6f, want);
                assertClose("rmsNorm " + rows + "x" + dim, toArray(got, count), toArray(want, count), 1e-6, 2e-6);
                assertSentinel(got, count);

                MemorySegment sx = copy(mem, arena, x, count + SENTINEL);
                MemorySegment sr = copy(mem, arena, x, count + SENTINEL);
                CpuKernels.softmaxRows(sx, rows, dim);
                ScalarKernels.softmaxRows(sr, rows, dim);
                assertClose("softmax " + rows + "x" + dim, toArray(sx, count), toArray(sr, count), 1e-8, 2e-6);
                assertSentinel(sx, count);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void dotAxpyAndConvertMatchReference(Memory mem) {
        Random rnd = new Random(13);
        try (Arena arena = Arena.ofShared()) {
            for (int len : COUNTS) {
                for (int off : new int[] {0, 1, 5}) {
                    MemorySegment a = randomF32(mem, arena, rnd, len + off, 1f);
                    MemorySegment b = randomF32(mem, arena, rnd, len + 2 * off, 1f);
                    float got = CpuKernels.dot(a, off, b, 2L * off, len);
                    float want = ScalarKernels.dot(a, off, b, 2L * off, len);
                    assertEquals(want, got, 2e-6 * Math.sqrt(len) + 1e-6 * Math.abs(want), "dot len=" + len + " off=" + off);

                    MemorySegment y1 = copy(mem, arena, b, len + 2L * off + SENTINEL);
                    MemorySegment y2 = copy(mem, arena, b, len + 2L * off + SENTINEL);
                    CpuKernels.axpy(0.75f, a, off, y1, 2L * off, len);
                    ScalarKernels.axpy(0.75f, a, off, y2, 2L * off, len);
                    float[] g = toArray(y1, len + 2L * off), e = toArray(y2, len + 2L * off);
                    assertClose("axpy len=" + len + " off=" + off, g, e, 1e-7, 1e-6);
                    assertSentinel(y1, len + 2L * off);
                }
                for (WeightFormat wf : WeightFormat.values()) {
                    MemorySegment src = randomWeights(mem, arena, rnd, wf, len, 3f);
                    MemorySegment got = poisoned(mem, arena, len), want = poisoned(mem, arena, len);
                    CpuKernels.toFloat32(src, wf, len, got);
                    ScalarKernels.toFloat32(src, wf, len, want);
                    assertArrayEquals(toArray(want, len), toArray(got, len), "toFloat32 " + wf + " " + len);
                    assertSentinel(got, len);
                }
            }
        }
    }

    @Test
    void referenceKnownValues() {
        float[] out = new float[3];
        ScalarKernels.geluErf(MemorySegment.ofArray(new float[] {1f, -1f, 0f}), 3, MemorySegment.ofArray(out));
        // torch.nn.functional.gelu(torch.tensor([1., -1., 0.], dtype=torch.float64))
        assertEquals(0.8413447460685429, out[0], 1e-7);
        assertEquals(-0.15865525393145707, out[1], 1e-7);
        assertEquals(0.0, out[2]);

        float[] sm = {1, 2, 3};
        ScalarKernels.softmaxRows(MemorySegment.ofArray(sm), 1, 3);
        assertArrayEquals(new float[] {0.09003057f, 0.24472847f, 0.66524096f}, sm, 1e-7f);

        float[] rn = new float[2];
        ScalarKernels.rmsNorm(MemorySegment.ofArray(new float[] {3, 4}), 1, 2,
                MemorySegment.ofArray(new float[] {1, 2}), 0f, MemorySegment.ofArray(rn));
        double inv = 1 / Math.sqrt(12.5);
        assertArrayEquals(new float[] {(float) (3 * inv), (float) (8 * inv)}, rn, 1e-7f);
    }
}

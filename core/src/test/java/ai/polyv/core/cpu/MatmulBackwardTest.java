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

/**
 * {@link CpuKernels#matmulNN} and {@link CpuKernels#matmulTN} (the backward products of a linear layer, adding
 * into their output) against {@link ScalarKernels} on awkward shapes, heap and native segments, and bit for bit
 * against the plain fma loop they promise, for 1, 2 and 3 threads.
 */
class MatmulBackwardTest {

    private static CpuThreads threads;

    @BeforeAll
    static void start() {
        threads = new CpuThreads(3);   // more participants than cores on purpose: exercises the chunking
    }

    @AfterAll
    static void stop() {
        threads.close();
    }

    // [n, m, k]: dy [n, m], w [m, k], x [n, k]. One row, primes, sizes off the vector length (16 lanes with
    // AVX-512, 8 with AVX2), off the 4-row blocks, the 64-column strips, the 256-column tiles, the 128-long
    // reduction blocks and the 256-row chunks
    private static final int[][] SHAPES = {
            {1, 1, 1}, {1, 7, 5}, {1, 33, 17}, {1, 1031, 13}, {1, 5, 257},
            {2, 3, 2}, {3, 17, 29}, {4, 64, 64}, {5, 100, 7}, {7, 31, 37}, {13, 257, 65},
            {17, 130, 300}, {33, 9, 2053}, {64, 96, 128}, {101, 77, 130}, {129, 300, 257}, {9, 301, 70}, {300, 5, 3},
    };

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void matmulNNMatchesReferenceHeapAndNative(WeightFormat wf) {
        Random rnd = new Random(21 + wf.ordinal());
        for (Memory mem : Memory.values()) {
            try (Arena arena = Arena.ofShared()) {
                for (int[] s : SHAPES) {
                    int n = s[0], m = s[1], k = s[2];
                    MemorySegment dy = randomF32(mem, arena, rnd, (long) n * m, 1f);
                    MemorySegment w = randomWeights(mem, arena, rnd, wf, (long) m * k, 0.5f);
                    MemorySegment got = randomF32(mem, arena, rnd, (long) n * k, 1f);   // adds into this
                    MemorySegment want = copy(mem, arena, got, (long) n * k + SENTINEL);
                    CpuKernels.matmulNN(threads, dy, n, m, w, wf, k, got);
                    ScalarKernels.matmulNN(threads, dy, n, m, w, wf, k, want);
                    String what = "matmulNN " + wf + " " + mem + " n=" + n + " m=" + m + " k=" + k;
                    float[] g = toArray(got, (long) n * k), e = toArray(want, (long) n * k);
                    assertClose(what, g, e, 2e-6 * Math.sqrt(m), 1e-5);
                    assertTrue(relL2(g, e) < 1e-6, what + ": rel L2 " + relL2(g, e));
                    assertSentinel(got, (long) n * k);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void matmulTNMatchesReference(Memory mem) {
        Random rnd = new Random(23);
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : SHAPES) {
                int n = s[0], m = s[1], k = s[2];
                MemorySegment dy = randomF32(mem, arena, rnd, (long) n * m, 1f);
                MemorySegment x = randomF32(mem, arena, rnd, (long) n * k, 1f);
                MemorySegment got = randomF32(mem, arena, rnd, (long) m * k, 1f);
                MemorySegment want = copy(mem, arena, got, (long) m * k + SENTINEL);
                CpuKernels.matmulTN(threads, dy, n, m, x, k, got);
                ScalarKernels.matmulTN(threads, dy, n, m, x, k, want);
                String what = "matmulTN " + mem + " n=" + n + " m=" + m + " k=" + k;
                float[] g = toArray(got, (long) m * k), e = toArray(want, (long) m * k);
                assertClose(what, g, e, 2e-6 * Math.sqrt(n), 1e-5);
                assertTrue(relL2(g, e) < 1e-6, what + ": rel L2 " + relL2(g, e));
                assertSentinel(got, (long) m * k);
            }
        }
    }

    @Test
    void bothAreTheFmaChainBitForBitOnAnyThreadCount() {
        // the documented order: out = fma(a, b, out) over the reduction index in order, from the old value;
        // BF16 weights widen exactly, so the plain loop over the float values is the exact expectation
        Random rnd = new Random(29);
        int[][] shapes = {{1, 300, 70}, {37, 130, 300}, {130, 257, 33}, {300, 200, 65}};
        try (Arena arena = Arena.ofShared(); CpuThreads one = new CpuThreads(1); CpuThreads two = new CpuThreads(2)) {
            for (int[] s : shapes) {
                int n = s[0], m = s[1], k = s[2];
                MemorySegment dy = randomF32(Memory.NATIVE, arena, rnd, (long) n * m, 1f);
                MemorySegment w = randomWeights(Memory.NATIVE, arena, rnd, WeightFormat.BF16, (long) m * k, 0.5f);
                MemorySegment x = randomF32(Memory.NATIVE, arena, rnd, (long) n * k, 1f);
                float[] dx0 = toArray(randomF32(Memory.NATIVE, arena, rnd, (long) n * k, 1f), (long) n * k);
                float[] dw0 = toArray(randomF32(Memory.NATIVE, arena, rnd, (long) m * k, 1f), (long) m * k);
                float[] dxWant = dx0.clone(), dwWant = dw0.clone();
                for (int i = 0; i < n; i++) {
                    for (int o = 0; o < m; o++) {
                        float a = ScalarKernels.get(dy, (long) i * m + o);
                        for (int c = 0; c < k; c++) {
                            dxWant[i * k + c] = Math.fma(a, WeightFormat.BF16.get(w, (long) o * k + c), dxWant[i * k + c]);
                            dwWant[o * k + c] = Math.fma(a, ScalarKernels.get(x, (long) i * k + c), dwWant[o * k + c]);
                        }
                    }
                }
                for (CpuThreads t : new CpuThreads[] {one, two, threads}) {
                    String what = "n=" + n + " m=" + m + " k=" + k + " threads=" + t.size();
                    float[] dx = dx0.clone(), dw = dw0.clone();
                    CpuKernels.matmulNN(t, dy, n, m, w, WeightFormat.BF16, k, MemorySegment.ofArray(dx));
                    CpuKernels.matmulTN(t, dy, n, m, x, k, MemorySegment.ofArray(dw));
                    assertArrayEquals(dxWant, dx, "matmulNN " + what);
                    assertArrayEquals(dwWant, dw, "matmulTN " + what);
                }
            }
        }
    }

    @Test
    void knownValues() {
        // dy [2, 3], w [3, 2] (bf16, exact), dx starts at [1, 1; 1, 1]; x [2, 2], dw starts at 0
        float[] dyv = {1, 2, 3, -1, 0.5f, 4};
        MemorySegment w = MemorySegment.ofArray(new short[6]);
        float[] wv = {1, 0, -1, 0.25f, 2, 8};
        for (int i = 0; i < 6; i++) WeightFormat.BF16.set(w, i, wv[i]);
        float[] dx = {1, 1, 1, 1};
        CpuKernels.matmulNN(threads, MemorySegment.ofArray(dyv), 2, 3, w, WeightFormat.BF16, 2, MemorySegment.ofArray(dx));
        // dx[i, c] = 1 + sum_o dy[i, o] w[o, c]
        assertArrayEquals(new float[] {1 + 1 - 2 + 6, 1 + 0 + 0.5f + 24, 1 - 1 - 0.5f + 8, 1 + 0 + 0.125f + 32}, dx);
        float[] xv = {2, -1, 0.5f, 3};
        float[] dw = new float[6];
        CpuKernels.matmulTN(threads, MemorySegment.ofArray(dyv), 2, 3, MemorySegment.ofArray(xv), 2, MemorySegment.ofArray(dw));
        // dw[o, c] = sum_i dy[i, o] x[i, c]
        assertArrayEquals(new float[] {2 - 0.5f, -1 - 3, 4 + 0.25f, -2 + 1.5f, 6 + 2, -3 + 12}, dw);
    }

    @Test
    void rejectShortBuffersAndConfinedSegments() {
        MemorySegment dy = MemorySegment.ofArray(new float[6]);
        var ex = assertThrows(IllegalArgumentException.class, () -> CpuKernels.matmulNN(threads, dy, 2, 3,
                MemorySegment.ofArray(new float[5]), WeightFormat.F32, 2, MemorySegment.ofArray(new float[4])));
        assertTrue(ex.getMessage().contains("w [m=3, k=2]"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> CpuKernels.matmulTN(threads, dy, 2, 3,
                MemorySegment.ofArray(new float[4]), 2, MemorySegment.ofArray(new float[5])));
        assertTrue(ex.getMessage().contains("out [m=3, k=2]"), ex.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(4 * 4);
            ex = assertThrows(IllegalArgumentException.class, () -> CpuKernels.matmulNN(threads, dy, 2, 3,
                    MemorySegment.ofArray(new float[6]), WeightFormat.F32, 2, out));
            assertTrue(ex.getMessage().contains("segment out is confined"), ex.getMessage());
        }
    }
}

package ai.polyv.cuda;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.model.WindowIndex;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.cuda.driver.CudaEvent;
import ai.polyv.cuda.driver.CudaGraph;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.kernels.Cases;
import ai.polyv.cuda.kernels.Mismatches;
import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every op of {@link CudaBackend} against {@link CpuBackend} (the reference) on random inputs with
 * awkward sizes: 1 token, prime sizes, real PolyV widths (hidden 3584, head dim 128 with 28 heads over
 * 4 KV heads, vision head dim 80), an expert with no tokens, all tokens to one expert, windows of
 * unequal length from an odd merged grid. GPU outputs are poisoned with NaN before each run (and the
 * KV cache beyond the visible rows too), so an unwritten or over-read element fails. Floats are
 * compared by relative L2 error with a per-op threshold (reason beside each), integers exactly.
 * Skipped, with the reason, when no CUDA device is present.
 */
class CudaOpHarnessTest {
    private static CudaBackend gpu;
    /** The same device in {@link CudaBackend.Precision#BF16}: the fused PolyV kernels' paths. */
    private static CudaBackend gpu16;
    private static CpuBackend cpu;
    private static Arena hostWeights;
    private static CudaProbe probe;
    /** Small shapes on the emulated device and under compute-sanitizer (CudaProbe.smallShapes). */
    private static final boolean SMALL = CudaProbe.smallShapes();

    @BeforeAll
    static void open() {
        probe = CudaProbe.probe();
        if (!probe.available()) return;
        gpu = CudaBackend.open();
        gpu16 = CudaBackend.open(CudaBackend.Precision.BF16);   // shares the primary context
        cpu = new CpuBackend(2);
        hostWeights = Arena.ofShared();
    }

    @BeforeEach
    void requireDevice() {
        assumeTrue(gpu != null, () -> probe.skipMessage("CUDA op harness"));
    }

    @AfterAll
    static void close() {
        if (gpu16 != null) gpu16.close();
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
        if (hostWeights != null) hostWeights.close();
    }

    // ---------------------------------------------------------------- helpers

    /** The same tensor on both backends. */
    record Both(Tensor c, Tensor g) {}

    private static final class Spaces implements AutoCloseable {
        final CudaBackend gb;
        final Workspace c, g;

        Spaces() {
            this(gpu);
        }

        Spaces(CudaBackend gb) {
            this.gb = gb;
            this.c = cpu.workspace();
            this.g = gb.workspace();
        }

        Both of(float[] v, long... shape) {
            return new Both(c.f32(v, shape), g.f32(v, shape));
        }

        /** An output: zero on the CPU, NaN on the GPU (so that unwritten elements show). */
        Both out(long... shape) {
            Both b = new Both(c.f32(shape), g.f32(shape));
            gb.fill(b.g(), Float.NaN);
            return b;
        }

        @Override
        public void close() {
            c.close();
            g.close();
        }
    }

    private static float[] random(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    /** A weight in {@code dt} on both backends, from the same host bytes. */
    private static Both weight(DType dt, float[] values, long... shape) {
        return weight(gpu, dt, values, shape);
    }

    private static Both weight(CudaBackend gb, DType dt, float[] values, long... shape) {
        MemorySegment seg = hostWeights.allocate((long) values.length * dt.byteSize(), 64);
        for (int i = 0; i < values.length; i++) {
            switch (dt) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, toBf16(values[i]));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(values[i]));
            }
        }
        return new Both(cpu.weight(dt, seg, shape), gb.weight(dt, seg, shape));
    }

    private static short toBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }

    /** Relative L2 error of the GPU tensor against the CPU one, failing on any NaN left by the poison. */
    private static void assertClose(String what, Both t, double tol) {
        assertClose(gpu, what, t, tol);
    }

    private static void assertClose(CudaBackend gb, String what, Both t, double tol) {
        float[] ref = cpu.download(t.c()), got = gb.download(t.g());
        assertEquals(ref.length, got.length, what);
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(got[i]) && !Float.isNaN(ref[i])) fail(what + ": element " + i + " is NaN (unwritten or read poison); reference " + ref[i]);
            double d = got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        double err = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        if (err > tol) fail(what + ": relative L2 error " + err + " > " + tol + "; largest errors " + Mismatches.largest(ref, got, 5));
    }

    private static void assertExact(String what, Both t) {
        assertArrayEquals(cpu.download(t.c()), gpu.download(t.g()), what);
    }

    // ---------------------------------------------------------------- dense ops

    @Test
    void matmulF32Bf16F16WeightsWithAndWithoutBias() {
        Random r = new Random(1);
        int[][] shapes = {{1, 7, 5}, {13, 97, 31}, {64, 256, 128}, {2, 1176, 80}, {5, 3584, 37}, {1, 1, 1}};
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {   // the element types a Tensor holds
            for (int[] s : shapes) {
                int n = s[0], k = s[1], m = s[2];
                try (Spaces sp = new Spaces()) {
                    Both x = sp.of(random(r, n * k, 1f), n, k);
                    Both w = weight(dt, random(r, m * k, 0.05f), m, k);
                    Both bias = m % 2 == 1 ? weight(DType.F32, random(r, m, 1f), m) : null;
                    Both out = sp.out(n, m);
                    cpu.matmul(x.c(), w.c(), bias == null ? null : bias.c(), out.c());
                    gpu.matmul(x.g(), w.g(), bias == null ? null : bias.g(), out.g());
                    // both accumulate in fp32 over the same (widened) weights; only the summation order differs
                    assertClose("matmul " + dt + " " + n + "x" + k + "x" + m + (bias != null ? " +bias" : ""), out, 1e-5);
                }
            }
        }
    }

    @Test
    void matmulInBf16PrecisionStaysWithinBf16Rounding() {
        Random r = new Random(2);
        try (CudaBackend bf = CudaBackend.open(CudaBackend.Precision.BF16); Workspace wc = cpu.workspace(); Workspace wg = bf.workspace()) {
            int n = 17, k = 3584, m = 129;
            float[] xv = random(r, n * k, 1f), wv = random(r, m * k, 0.02f);
            MemorySegment seg = hostWeights.allocate(2L * wv.length, 64);
            for (int i = 0; i < wv.length; i++) seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, toBf16(wv[i]));
            Tensor wC = cpu.weight(DType.BF16, seg, m, k), wG = bf.weight(DType.BF16, seg, m, k);
            assertEquals(DType.BF16, wG.dtype(), "BF16 precision keeps the stored dtype");
            Tensor oc = wc.f32(n, m), og = wg.f32(n, m);
            cpu.matmul(wc.f32(xv, n, k), wC, null, oc);
            bf.matmul(wg.f32(xv, n, k), wG, null, og);
            float[] ref = cpu.download(oc), got = bf.download(og);
            double num = 0, den = 0;
            for (int i = 0; i < ref.length; i++) {
                num += (got[i] - ref[i]) * (double) (got[i] - ref[i]);
                den += ref[i] * (double) ref[i];
            }
            // x rounded to bf16 (8 mantissa bits): relative error per product ~2^-9, so ~1e-3 on the sums
            double err = Math.sqrt(num / den);
            assertTrue(err > 0 && err < 1e-2, "bf16 matmul relative L2 error " + err);
        }
    }

    @Test
    void rmsNormIncludingInPlaceAndOneColumn() {
        Random r = new Random(3);
        for (int[] s : new int[][] {{1, 1}, {3, 97}, {17, 3584}, {1, 1280}}) {
            int n = s[0], d = s[1];
            try (Spaces sp = new Spaces()) {
                float[] xv = random(r, n * d, 2f);
                Both w = weight(DType.F32, random(r, d, 1f), d);
                Both x = sp.of(xv, n, d), out = sp.out(n, d);
                cpu.rmsNorm(x.c(), w.c(), 1e-6f, out.c());
                gpu.rmsNorm(x.g(), w.g(), 1e-6f, out.g());
                assertClose("rmsNorm " + n + "x" + d, out, 1e-6);   // one fp32 reduction per row
                cpu.rmsNorm(x.c(), w.c(), 1e-6f, x.c());
                gpu.rmsNorm(x.g(), w.g(), 1e-6f, x.g());
                assertClose("rmsNorm in place " + n + "x" + d, x, 1e-6);
            }
        }
    }

    @Test
    void elementwiseOps() {
        Random r = new Random(4);
        for (int n : new int[] {1, 97, 3 * 18944 + 1}) {
            try (Spaces sp = new Spaces()) {
                float[] av = random(r, n, 3f);
                av[0] = n > 1 ? 12f : av[0];
                Both a = sp.of(av, n), b = sp.of(random(r, n, 3f), n), out = sp.out(n);
                cpu.siluMul(a.c(), b.c(), out.c());
                gpu.siluMul(a.g(), b.g(), out.g());
                assertClose("siluMul " + n, out, 1e-6);     // expf vs double exp: a few ulp
                out = sp.out(n);
                cpu.gelu(a.c(), out.c());
                gpu.gelu(a.g(), out.g());
                assertClose("gelu " + n, out, 1e-6);        // erff: 2 ulp
                cpu.gelu(a.c(), a.c());
                gpu.gelu(a.g(), a.g());
                assertClose("gelu in place " + n, a, 1e-6);
                // add on fresh inputs: after gelu in place, a differs by an ulp between the backends (erff),
                // which made "add" inexact (found on the emulated device)
                Both c = sp.of(random(r, n, 3f), n);
                out = sp.out(n);
                cpu.add(c.c(), b.c(), out.c());
                gpu.add(c.g(), b.g(), out.g());
                assertExact("add " + n, out);               // one rounding, same on both
                cpu.add(c.c(), b.c(), c.c());
                gpu.add(c.g(), b.g(), c.g());
                assertExact("add into a " + n, c);
            }
        }
    }

    @Test
    void fillWritesEveryElementOfAView() {
        try (Spaces sp = new Spaces()) {
            Both t = sp.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 4, 3);
            cpu.fill(t.c().rows(1, 2), -3.5f);
            gpu.fill(t.g().rows(1, 2), -3.5f);
            assertArrayEquals(new float[] {1, 2, 3, -3.5f, -3.5f, -3.5f, -3.5f, -3.5f, -3.5f, 10, 11, 12}, gpu.download(t.g()));
            assertExact("fill", t);
            gpu.fill(t.g(), 0f);
            assertArrayEquals(new float[12], gpu.download(t.g()));
        }
    }

    // ---------------------------------------------------------------- row movement

    @Test
    void embeddingForEveryTableDtype() {
        Random r = new Random(5);
        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {   // the element types a Tensor holds
            Both table = weight(dt, random(r, 101 * 67, 1f), 101, 67);
            for (int[] ids : new int[][] {{0, 100, 5, 5, 37}, {42}}) {
                try (Spaces sp = new Spaces()) {
                    Both out = sp.out(ids.length, 67);
                    cpu.embedding(table.c(), ids, out.c());
                    gpu.embedding(table.g(), ids, out.g());
                    assertExact("embedding " + dt + " x" + ids.length, out);   // a widening copy is exact
                }
            }
            try (Spaces sp = new Spaces()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.embedding(table.g(), new int[] {3, 101}, sp.out(2, 67).g()));
                assertTrue(e.getMessage().contains("id 101 at position 1 outside vocabulary [0, 101)"), e.getMessage());
            }
        }
    }

    @Test
    void gatherAndScatterRowsIncludingRepeatsAndTheQkvSplit() {
        Random r = new Random(6);
        try (Spaces sp = new Spaces()) {
            Both src = sp.of(random(r, 29 * 33, 1f), 29, 33);
            int[] index = {28, 0, 5, 5, 17, 3, 3};
            Both g = sp.out(index.length, 33);
            cpu.gatherRows(src.c(), index, g.c());
            gpu.gatherRows(src.g(), index, g.g());
            assertExact("gatherRows", g);

            int n = 11, d = 80;   // qkv [n, 3d] split as the vision encoder does: rows 3i+j of [3n, d]
            Both qkv = sp.of(random(r, n * 3 * d, 1f), n, 3L * d);
            int[] idx = new int[n];
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < n; i++) idx[i] = 3 * i + j;
                Both part = sp.out(n, d);
                cpu.gatherRows(qkv.c().reshape(3L * n, d), idx, part.c());
                gpu.gatherRows(qkv.g().reshape(3L * n, d), idx, part.g());
                assertExact("qkv split part " + j, part);
            }

            float[] init = random(r, 10 * 33, 1f);
            for (int[] at : new int[][] {{4, 0, 9}, {2, 7, 2, 2, 0}}) {
                Both rows = sp.of(random(r, at.length * 33, 1f), at.length, 33);
                Both out = sp.of(init, 10, 33);
                cpu.scatterRows(rows.c(), at, out.c());
                gpu.scatterRows(rows.g(), at, out.g());
                assertExact("scatterRows " + java.util.Arrays.toString(at) + " (repeats: last write wins)", out);
            }
            assertThrows(IndexOutOfBoundsException.class, () -> gpu.gatherRows(src.g(), new int[] {29}, sp.out(1, 33).g()));

            // copy: one row of a batch into row 6 of a cache, the rest of the cache untouched
            Both batch = sp.of(random(r, 3 * 33, 1f), 3, 33);
            Both cache = sp.of(init, 10, 33);
            cpu.copy(batch.c().rows(1, 1), cache.c().rows(6, 1));
            gpu.copy(batch.g().rows(1, 1), cache.g().rows(6, 1));
            assertExact("copy of a row view", cache);
            assertThrows(IllegalArgumentException.class, () -> gpu.copy(batch.g().rows(0, 2), cache.g().rows(0, 1)));
        }
    }

    @Test
    void scatterAddScaledDistinctRepeatedAndEmpty() {
        Random r = new Random(7);
        try (Spaces sp = new Spaces()) {
            float[] init = random(r, 12 * 3584, 1f);
            for (int[] at : new int[][] {{4, 0, 11, 7}, {2, 7, 2, 2, 0}, {5}}) {
                float[] scale = random(r, at.length, 1f);
                Both rows = sp.of(random(r, at.length * 3584, 1f), at.length, 3584);
                Both out = sp.of(init, 12, 3584);
                cpu.scatterAddScaled(rows.c(), at, scale, out.c());
                gpu.scatterAddScaled(rows.g(), at, scale, out.g());
                assertClose("scatterAddScaled " + java.util.Arrays.toString(at), out, 1e-6);   // same order of adds; FMA rounding only
            }
            Both out = sp.of(init, 12, 3584);
            gpu.scatterAddScaled(sp.of(new float[0], 0, 3584).g(), new int[0], new float[0], out.g());
            assertArrayEquals(init, gpu.download(out.g()), "an empty scatter changes nothing");
        }
    }

    // ---------------------------------------------------------------- attention block pieces

    @Test
    void ropeTextAndVisionHeadSizes() {
        Random r = new Random(8);
        for (int[] s : new int[][] {{1, 28, 128}, {5, 3, 8}, {13, 16, 80}, {7, 4, 128}}) {
            int n = s[0], heads = s[1], hd = s[2];
            try (Spaces sp = new Spaces()) {
                float[] ang = random(r, n * hd, 3f), cos = new float[n * hd], sin = new float[n * hd];
                for (int i = 0; i < ang.length; i++) {
                    cos[i] = (float) Math.cos(ang[i]);
                    sin[i] = (float) Math.sin(ang[i]);
                }
                Both x = sp.of(random(r, n * heads * hd, 1f), n, (long) heads * hd);
                Both c = sp.of(cos, n, hd), si = sp.of(sin, n, hd);
                cpu.rope(x.c(), heads, c.c(), si.c());
                gpu.rope(x.g(), heads, c.g(), si.g());
                assertClose("rope " + n + "x" + heads + "x" + hd, x, 1e-6);
            }
        }
    }

    @Test
    void causalAttentionPrefillDecodeAndGqa() {
        Random r = new Random(9);
        // {heads, kvHeads, hd, start, n, cacheRows}
        int[][] cases = {{7, 1, 128, 0, 13, 20}, {7, 1, 128, 37, 1, 64}, {4, 2, 64, 5, 3, 9}, {28, 4, 128, 300, 1, 311}, {2, 2, 8, 0, 1, 1},
                {28, 4, 128, 0, 97, 97}, {3, 3, 80, 2, 5, 7}};
        Cases.each("causalAttentionPrefillDecodeAndGqa", cases, c -> {
            // small shapes (emulated device, sanitizer): the Qwen 28/4 heads become 8/2 (same GQA shape, 1/3.5 the work)
            int heads = SMALL && c[0] == 28 ? 8 : c[0], kvh = SMALL && c[1] == 4 ? 2 : c[1], hd = c[2], start = c[3], n = c[4], rows = c[5];
            try (Spaces sp = new Spaces()) {
                Both q = sp.of(random(r, n * heads * hd, 1f), n, (long) heads * hd);
                Both k = sp.of(random(r, rows * kvh * hd, 1f), rows, (long) kvh * hd);
                Both v = sp.of(random(r, rows * kvh * hd, 1f), rows, (long) kvh * hd);
                if (rows > start + n) {   // rows past the visible ones must never be read
                    gpu.fill(k.g().rows(start + n, rows - start - n), Float.NaN);
                    gpu.fill(v.g().rows(start + n, rows - start - n), Float.NaN);
                }
                Both out = sp.out(n, (long) heads * hd);
                cpu.attentionCausal(q.c(), k.c(), v.c(), out.c(), heads, kvh, start);
                gpu.attentionCausal(q.g(), k.g(), v.g(), out.g(), heads, kvh, start);
                // online vs two-pass softmax and a different summation order: ~1e-7 per element
                assertClose("attentionCausal " + java.util.Arrays.toString(c), out, 1e-5);
            }
        });
    }

    @Test
    void segmentAttentionUnequalWindowsFromAnOddGrid() {
        Random r = new Random(10);
        // merged grid 5 x 7 (odd both ways), windows of 4 x 4 merged tokens: 4 windows of 16, 12, 4, 3 tokens x 4 patches
        WindowIndex win = WindowIndex.compute(2, 10, 14, 2, 4);
        int n = win.patchPerm().length;
        int[][] segs = {win.cuWindows(), win.cuFrames(), {0, 1, 5, 12, 13}, {0, 1}};
        int[][] dims = SMALL ? new int[][] {{2, 80}, {3, 80}, {2, 80}, {3, 64}} : new int[][] {{16, 80}, {16, 80}, {2, 80}, {3, 64}};
        for (int s = 0; s < segs.length; s++) {
            int rows = segs[s][segs[s].length - 1], heads = dims[s][0], hd = dims[s][1];
            try (Spaces sp = new Spaces()) {
                Both q = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both k = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both v = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both out = sp.out(rows, (long) heads * hd);
                cpu.attentionSegments(q.c(), k.c(), v.c(), out.c(), heads, segs[s]);
                gpu.attentionSegments(q.g(), k.g(), v.g(), out.g(), heads, segs[s]);
                assertClose("attentionSegments " + java.util.Arrays.toString(segs[s]), out, 1e-5);
            }
        }
        assertEquals(2 * 140, n);
    }

    // ---------------------------------------------------------------- routing

    @Test
    void softmaxTopKIdsExactWeightsClose() {
        Random r = new Random(11);
        float[] oneExpert = new float[9 * 4];
        for (int i = 0; i < 9; i++) for (int e = 0; e < 4; e++) oneExpert[i * 4 + e] = e == 2 ? 5f : (float) r.nextGaussian();
        float[] ties = new float[3 * 5];                     // all equal: ids must be 0, 1, ...
        Object[][] cases = {{random(r, 4, 1f), 1, 4, 2, false}, {random(r, 97 * 7, 2f), 97, 7, 3, true}, {oneExpert, 9, 4, 1, false},
                {ties, 3, 5, 2, true}, {random(r, 64 * 64, 1f), 64, 64, 8, true}};
        Cases.each("softmaxTopKIdsExactWeightsClose", cases, c -> {
            float[] logits = (float[]) c[0];
            int n = (int) c[1], m = (int) c[2], k = (int) c[3];
            boolean renorm = (boolean) c[4];
            try (Spaces sp = new Spaces()) {
                Both l = sp.of(logits, n, m);
                int[] idsC = new int[n * k], idsG = new int[n * k];
                float[] wC = new float[n * k], wG = new float[n * k];
                cpu.softmaxTopK(l.c(), k, renorm, idsC, wC);
                gpu.softmaxTopK(l.g(), k, renorm, idsG, wG);
                assertArrayEquals(idsC, idsG, "softmaxTopK ids n=" + n + " m=" + m + " k=" + k);
                assertArrayEquals(wC, wG, 1e-6f, "softmaxTopK weights n=" + n + " m=" + m + " k=" + k);
            }
        });
    }

    @Test
    void argmaxTiesToTheLowerIndex() {
        Random r = new Random(12);
        int rows = 5, cols = 2053;
        float[] x = random(r, rows * cols, 1f);
        x[0 * cols + 7] = 9f;
        x[0 * cols + 1500] = 9f;           // tie: 7 wins
        x[1 * cols + cols - 1] = 50f;      // last column
        for (int c = 0; c < cols; c++) x[2 * cols + c] = -1f;   // all equal: 0
        x[3 * cols + 4] = Float.NaN;       // NaN never wins
        try (Spaces sp = new Spaces()) {
            Both t = sp.of(x, rows, cols);
            int[] expect = new int[rows];
            for (int i = 0; i < rows; i++) {
                int best = 0;
                for (int c = 1; c < cols; c++) if (x[i * cols + c] > x[i * cols + best] || Float.isNaN(x[i * cols + best])) best = c;
                expect[i] = best;
            }
            assertEquals(7, expect[0]);
            assertArrayEquals(expect, gpu.argmax(t.g()));
        }
    }

    @Test
    void moePipelineWithAnEmptyExpertAndAllTokensToOneExpert() {
        Random r = new Random(13);
        int hidden = 96, inter = 53, m = 4;
        Both[][] experts = new Both[m][];
        for (int e = 0; e < m; e++) {
            experts[e] = new Both[] {weight(DType.BF16, random(r, inter * hidden, 0.1f), inter, hidden),
                    weight(DType.BF16, random(r, inter * hidden, 0.1f), inter, hidden), weight(DType.BF16, random(r, hidden * inter, 0.1f), hidden, inter)};
        }
        for (int k : new int[] {2, 1}) {
            int n = 23;
            float[] logits = random(r, n * m, 1f);
            for (int i = 0; i < n; i++) {
                logits[i * m + 3] = -30f;                     // expert 3 gets no token
                if (k == 1) logits[i * m + 1] = 30f;          // every token to expert 1
            }
            try (Spaces sp = new Spaces()) {
                Both x = sp.of(random(r, n * hidden, 1f), n, hidden), l = sp.of(logits, n, m);
                Both out = sp.out(n, hidden);
                for (Backend be : new Backend[] {cpu, gpu}) {
                    boolean g = be == gpu;
                    int[] ids = new int[n * k];
                    float[] w = new float[n * k];
                    be.softmaxTopK(g ? l.g() : l.c(), k, true, ids, w);
                    TokenPermutation perm = TokenPermutation.of(n, k, m, ids, w);
                    assertEquals(0, perm.count(3));
                    if (k == 1) assertEquals(n, perm.count(1));
                    be.fill(g ? out.g() : out.c(), 0f);
                    for (int e = 0; e < m; e++) {
                        int c = perm.count(e);
                        if (c == 0) continue;
                        try (Workspace ws = be.workspace()) {
                            Tensor xe = ws.f32(c, hidden), ge = ws.f32(c, inter), ue = ws.f32(c, inter), ye = ws.f32(c, hidden);
                            be.gatherRows(g ? x.g() : x.c(), perm.tokensOf(e), xe);
                            be.matmul(xe, g ? experts[e][0].g() : experts[e][0].c(), null, ge);
                            be.matmul(xe, g ? experts[e][1].g() : experts[e][1].c(), null, ue);
                            be.siluMul(ge, ue, ge);
                            be.matmul(ge, g ? experts[e][2].g() : experts[e][2].c(), null, ye);
                            be.scatterAddScaled(ye, perm.tokensOf(e), perm.weightsOf(e), g ? out.g() : out.c());
                        }
                    }
                }
                assertClose("MoE pipeline top-" + k, out, 1e-5);
            }
        }
    }

    // ---------------------------------------------------------------- fused PolyV kernels (Precision.BF16)

    private static long pathCount(CudaBackend be, String key) {
        return be.pathCounts().getOrDefault(key, 0L);
    }

    /** Precision.BF16 rounds F32 matrices to bf16 at upload (round to nearest even) and keeps vectors F32. */
    @Test
    void bf16PrecisionRoundsF32MatricesAndKeepsVectors() {
        Both m = weight(gpu16, DType.F32, new float[] {1f, 1.00390625f, 3.14159f, -2.5f}, 2, 2);
        assertEquals(DType.BF16, m.g().dtype());
        // 1 + 2^-8 is half an ulp of bf16 above 1: ties to even -> 1; 3.14159 -> 3.140625
        assertArrayEquals(new float[] {1f, 1f, 3.140625f, -2.5f}, gpu16.download(m.g()));
        Both v = weight(gpu16, DType.F32, new float[] {3.14159f, 2f}, 2);
        assertEquals(DType.F32, v.g().dtype());
        assertArrayEquals(new float[] {3.14159f, 2f}, gpu16.download(v.g()));
    }

    /** Bf16 expert weights {gate, up, down} of {@code m} experts on the CPU and on {@code gpu16}. */
    private static Both[][] bf16Experts(Random r, int m, int hidden, int ffn) {
        Both[][] experts = new Both[m][];
        for (int e = 0; e < m; e++) {
            experts[e] = new Both[] {weight(gpu16, DType.BF16, random(r, ffn * hidden, 0.1f), ffn, hidden),
                    weight(gpu16, DType.BF16, random(r, ffn * hidden, 0.1f), ffn, hidden),
                    weight(gpu16, DType.BF16, random(r, hidden * ffn, 0.1f), hidden, ffn)};
        }
        return experts;
    }

    private static ExpertWeights expertWeights(Both[][] experts, boolean onGpu) {
        List<Tensor> g = new ArrayList<>(), u = new ArrayList<>(), d = new ArrayList<>();
        for (Both[] e : experts) {
            g.add(onGpu ? e[0].g() : e[0].c());
            u.add(onGpu ? e[1].g() : e[1].c());
            d.add(onGpu ? e[2].g() : e[2].c());
        }
        return new ExpertWeights(g, u, d);
    }

    /**
     * moe_router_v2 (fp32 accumulation of F32 x times the bf16 router weight) against the CPU router GEMM
     * + softmaxTopK on the same bf16 weight: 1 token, primes, 64 experts (the _m64 build), all tokens to
     * one expert. Logits within 1e-5 (summation order only); ids exact wherever the CPU's k-th and
     * (k+1)-th probabilities differ by more than 1e-4 (closer pairs may swap under another order).
     */
    @Test
    void fusedRouterMatchesTheCpuRouter() {
        Random r = new Random(21);
        //                tokens hidden  M  k  renorm oneExpert
        Object[][] cases = {{1, 64, 4, 2, true, false}, {97, 136, 7, 3, false, false}, {257, 3584, 4, 2, true, false},
                {31, 64, 64, 8, true, false}, {13, 96, 4, 1, false, true}};
        Cases.each("fusedRouterMatchesTheCpuRouter", cases, c -> {
            int n = (int) c[0], hidden = (int) c[1], m = (int) c[2], k = (int) c[3];
            boolean renorm = (boolean) c[4], oneExpert = (boolean) c[5];
            float[] x = random(r, n * hidden, 1f), gate = random(r, m * hidden, 0.2f);
            if (oneExpert) {                                  // x > 0 and a large positive row 2: expert 2 first for every token
                for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
                for (int j = 0; j < hidden; j++) gate[2 * hidden + j] = 1f;
            }
            String what = "moeRoute n=" + n + " hidden=" + hidden + " M=" + m + " k=" + k;
            long before = pathCount(gpu16, "moeRoute:moe_router_v2");
            try (Spaces sp = new Spaces(gpu16)) {
                Both xs = sp.of(x, n, hidden), w = weight(gpu16, DType.BF16, gate, m, hidden), logits = sp.out(n, m);
                int[] idsC = new int[n * k], idsG = new int[n * k];
                float[] wC = new float[n * k], wG = new float[n * k];
                cpu.moeRoute(xs.c(), w.c(), k, renorm, logits.c(), idsC, wC);
                gpu16.moeRoute(xs.g(), w.g(), k, renorm, logits.g(), idsG, wG);
                assertClose(gpu16, what + " logits", logits, 1e-5);
                float[] l = cpu.download(logits.c());
                for (int t = 0; t < n; t++) {
                    if (oneExpert) assertEquals(2, idsG[t * k], what + ": token " + t + " must go to expert 2 first");
                    if (topKMargin(l, t, m, k) <= 1e-4) continue;
                    for (int j = 0; j < k; j++) {
                        assertEquals(idsC[t * k + j], idsG[t * k + j], what + ": id of token " + t + " slot " + j);
                        assertEquals(wC[t * k + j], wG[t * k + j], 1e-5f, what + ": weight of token " + t + " slot " + j);
                    }
                }
            }
            assertEquals(before + 1, pathCount(gpu16, "moeRoute:moe_router_v2"), what + " must take the fused router");
        });
    }

    /** The gap between the k-th and (k+1)-th softmax probability of row t (infinite when k == M). */
    private static double topKMargin(float[] logits, int t, int m, int k) {
        double[] p = new double[m];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int e = 0; e < m; e++) max = Math.max(max, logits[t * m + e]);
        for (int e = 0; e < m; e++) sum += p[e] = Math.exp(logits[t * m + e] - max);
        for (int e = 0; e < m; e++) p[e] /= sum;
        java.util.Arrays.sort(p);
        return k == m ? Double.POSITIVE_INFINITY : p[m - k] - p[m - k - 1];
    }

    /**
     * Stages 2-4 fused (moe_align_v2 -> expert_gate_up -> expert_down -> moe_combine_v2) against the CPU
     * stage loop: 1 token (GEMV path), primes (MMA path), an expert with no tokens, all tokens to one
     * expert, a routing handed in from the host (uploaded) and one straight from the fused router (its
     * device copy). Relative L2 2e-2: x and h are rounded to bf16 (2^-9 relative each) on the GPU only.
     */
    @Test
    void fusedExpertsMatchTheCpuStageLoop() {
        Random r = new Random(22);
        //                tokens hidden ffn  M  k
        int[][] cases = {{1, 64, 40, 4, 2}, {13, 96, 56, 4, 2}, {97, 136, 72, 5, 2}, {23, 96, 48, 4, 1}, {5, 3584, 256, 4, 2}};
        Cases.each("fusedExpertsMatchTheCpuStageLoop", cases, c -> {
            int n = c[0], hidden = c[1], ffn = c[2], m = c[3], k = c[4];
            Both[][] experts = bf16Experts(r, m, hidden, ffn);
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            for (int t = 0; t < n; t++) {
                ids[t * k] = 1;                                        // every token's first choice: expert 1
                if (k == 2) ids[t * k + 1] = r.nextBoolean() ? 0 : 2;  // expert m-1 never chosen (m >= 4)
                for (int j = 0; j < k; j++) w[t * k + j] = 0.25f + r.nextFloat();
            }
            String what = "moeExperts n=" + n + " hidden=" + hidden + " ffn=" + ffn + " M=" + m + " k=" + k;
            long before = pathCount(gpu16, "moeExperts:token_permutation+expert_ffn");
            try (Spaces sp = new Spaces(gpu16)) {
                Both x = sp.of(random(r, n * hidden, 1f), n, hidden), out = sp.out(n, hidden);
                cpu.moeExperts(x.c(), k, ids, w, expertWeights(experts, false), out.c());
                gpu16.moeExperts(x.g(), k, ids, w, expertWeights(experts, true), out.g());
                assertClose(gpu16, what, out, 2e-2);
            }
            assertEquals(before + 1, pathCount(gpu16, "moeExperts:token_permutation+expert_ffn"), what + " must take the fused path");
        });
        // router -> experts on the device: the experts read the router's own device ids
        int n = 37, hidden = 64, ffn = 48, m = 4, k = 2;
        Both[][] experts = bf16Experts(r, m, hidden, ffn);
        long reused = pathCount(gpu16, "moeExperts.routing:router_device_copy");
        try (Spaces sp = new Spaces(gpu16)) {
            Both x = sp.of(random(r, n * hidden, 1f), n, hidden), gate = weight(gpu16, DType.BF16, random(r, m * hidden, 0.3f), m, hidden);
            Both logits = sp.out(n, m), out = sp.out(n, hidden);
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            gpu16.moeRoute(x.g(), gate.g(), k, true, logits.g(), ids, w);
            gpu16.moeExperts(x.g(), k, ids, w, expertWeights(experts, true), out.g());
            cpu.moeExperts(x.c(), k, ids, w, expertWeights(experts, false), out.c());   // the same routing on the CPU
            assertClose(gpu16, "router -> experts on the device", out, 2e-2);
        }
        assertEquals(reused + 1, pathCount(gpu16, "moeExperts.routing:router_device_copy"));
    }

    /** The F32 backend keeps the fp32 stage loop for moeExperts (golden 1e-4), the same numbers as the CPU's. */
    @Test
    void f32PrecisionKeepsTheStageLoop() {
        Random r = new Random(23);
        int n = 11, hidden = 64, ffn = 40, m = 4, k = 2;
        Both[][] experts = new Both[m][];
        for (int e = 0; e < m; e++) {
            experts[e] = new Both[] {weight(DType.BF16, random(r, ffn * hidden, 0.1f), ffn, hidden),
                    weight(DType.BF16, random(r, ffn * hidden, 0.1f), ffn, hidden), weight(DType.BF16, random(r, hidden * ffn, 0.1f), hidden, ffn)};
        }
        int[] ids = new int[n * k];
        float[] w = new float[n * k];
        for (int t = 0; t < n; t++) {
            ids[t * k] = t % 3;
            ids[t * k + 1] = 3;
            w[t * k] = 0.7f;
            w[t * k + 1] = 0.3f;
        }
        long before = pathCount(gpu, "moeExperts:stage_loop");
        try (Spaces sp = new Spaces()) {
            Both x = sp.of(random(r, n * hidden, 1f), n, hidden), out = sp.out(n, hidden);
            cpu.moeExperts(x.c(), k, ids, w, expertWeights(experts, false), out.c());
            gpu.moeExperts(x.g(), k, ids, w, expertWeights(experts, true), out.g());
            assertClose("moeExperts F32 stage loop", out, 1e-5);
        }
        assertEquals(before + 1, pathCount(gpu, "moeExperts:stage_loop"));
        assertEquals(0L, pathCount(gpu, "moeExperts:token_permutation+expert_ffn"));
    }

    /**
     * window_attention_v2 against the CPU for head dims 80 (ViT), 64 and 128, windows of unequal length
     * from an odd merged grid, full frames, a one-row sequence; head dim 40 takes the simple kernel (the
     * documented fallback). Relative L2 2e-2: q, k, v and P go through bf16 on the GPU.
     */
    @Test
    void windowAttentionMatchesTheCpuAndFallsBackForOtherHeadDims() {
        Random r = new Random(24);
        WindowIndex win = WindowIndex.compute(2, 10, 14, 2, 4);   // merged grid 5 x 7: windows of 64, 48, 16, 12 patches
        int[][] segs = {win.cuWindows(), win.cuFrames(), {0, 1, 5, 12, 13}, {0, 1}, {0, 70, 71, 200}};
        int[][] dims = {{16, 80}, {4, 80}, {2, 64}, {3, 128}, {2, 40}};
        for (int s = 0; s < segs.length; s++) {
            int rows = segs[s][segs[s].length - 1], heads = dims[s][0], hd = dims[s][1];
            boolean fused = hd != 40;
            String key = fused ? "attentionSegments:window_attention_v2" : "attentionSegments:attention_segments";
            long before = pathCount(gpu16, key);
            try (Spaces sp = new Spaces(gpu16)) {
                Both q = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both k = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both v = sp.of(random(r, rows * heads * hd, 1f), rows, (long) heads * hd);
                Both out = sp.out(rows, (long) heads * hd);
                cpu.attentionSegments(q.c(), k.c(), v.c(), out.c(), heads, segs[s]);
                gpu16.attentionSegments(q.g(), k.g(), v.g(), out.g(), heads, segs[s]);
                assertClose(gpu16, "attentionSegments hd=" + hd + " " + java.util.Arrays.toString(segs[s]), out, fused ? 2e-2 : 1e-5);
            }
            assertEquals(before + 1, pathCount(gpu16, key), "hd=" + hd + " must take " + key);
        }
    }

    // ---------------------------------------------------------------- runtime behaviour

    /**
     * A CUDA graph captured from device-only ops (rmsNorm, F32 matmul, siluMul, add, rope, causal
     * attention) replays them bitwise like direct execution on fresh inputs written between launches;
     * an op that copies host data (embedding ids) is refused by name and leaves the stream usable.
     */
    @Test
    void aCapturedGraphReplaysDeviceOnlyOpsAndRefusesHostCopies() {
        Random r = new Random(25);
        int n = 3, d = 96, inter = 40, heads = 6, hd = 16;
        Tensor wg = weight(DType.F32, random(r, inter * d, 0.1f), inter, d).g(), wu = weight(DType.F32, random(r, inter * d, 0.1f), inter, d).g();
        Tensor wd = weight(DType.F32, random(r, d * inter, 0.1f), d, inter).g();
        try (Workspace ws = gpu.workspace()) {
            Tensor x = ws.f32(n, d), norm = ws.f32(random(r, d, 1f), d), h = ws.f32(n, d), g = ws.f32(n, inter), u = ws.f32(n, inter);
            Tensor y = ws.f32(n, d), cos = ws.f32(random(r, n * hd, 1f), n, hd), sin = ws.f32(random(r, n * hd, 1f), n, hd);
            Tensor att = ws.f32(n, d), table = ws.f32(random(r, 5 * d, 1f), 5, d);
            Runnable step = () -> {
                gpu.rmsNorm(x, norm, 1e-6f, h);
                gpu.rope(h, heads, cos, sin);
                gpu.attentionCausal(h, h, h, att, heads, heads, 0);
                gpu.matmul(att, wg, null, g);
                gpu.matmul(att, wu, null, u);
                gpu.siluMul(g, u, g);
                gpu.matmul(g, wd, null, y);
                gpu.add(x, y, y);
            };
            float[][] inputs = {random(r, n * d, 1f), random(r, n * d, 1f), random(r, n * d, 1f)};
            float[][] direct = new float[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                gpu.upload(inputs[i], x);
                step.run();
                direct[i] = gpu.download(y);
            }
            try (CudaGraph graph = gpu.capture(step)) {
                for (int i = inputs.length - 1; i >= 0; i--) {
                    gpu.upload(inputs[i], x);
                    gpu.fill(y, Float.NaN);
                    gpu.launch(graph);
                    assertArrayEquals(direct[i], gpu.download(y), "graph replay " + i);
                }
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.capture(() -> gpu.embedding(table, new int[] {1, 4, 0}, h)));
            assertTrue(e.getMessage().contains("CUDA graph capture"), e.getMessage());
            gpu.upload(inputs[0], x);
            step.run();
            assertArrayEquals(direct[0], gpu.download(y), "the stream works after a refused capture");
        }
    }


    @Test
    void aWarmDecodeStepMakesNoDeviceAllocation() {
        Random r = new Random(14);
        Both w = weight(DType.F32, random(r, 64 * 96, 0.1f), 64, 96);
        Runnable step = () -> {
            try (Workspace ws = gpu.workspace()) {
                Tensor x = ws.f32(random(r, 96, 1f), 1, 96), h = ws.f32(1, 64);
                gpu.matmul(x, w.g(), null, h);
                try (Workspace inner = gpu.workspace()) {
                    Tensor t = inner.f32(1, 64);
                    gpu.siluMul(h, h, t);
                    gpu.embedding(w.g(), new int[] {3}, inner.f32(1, 96));
                }
                gpu.download(h);
            }
        };
        step.run();
        long warm = gpu.pool().stats().deviceAllocations();
        for (int i = 0; i < 5; i++) step.run();
        assertEquals(warm, gpu.pool().stats().deviceAllocations(), "cuMemAlloc calls after warm-up: " + gpu.pool().stats());
    }

    @Test
    void hostTensorsAreRejectedByName() {
        try (Spaces sp = new Spaces()) {
            Both a = sp.of(new float[] {1, 2}, 1, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.add(a.c(), a.g(), a.g()));
            assertTrue(e.getMessage().contains("add: tensor F32[1, 2] is not device memory of this CUDA backend"), e.getMessage());
        }
    }

    @Test
    void eventsTimeAKernel() {
        try (Spaces sp = new Spaces(); CudaEvent start = new CudaEvent(); CudaEvent end = new CudaEvent()) {
            Both a = sp.of(new float[1 << 20], 1 << 20);
            start.record(gpu.stream());
            gpu.add(a.g(), a.g(), a.g());
            end.record(gpu.stream());
            float ms = CudaEvent.elapsedMillis(start, end);
            assertTrue(ms >= 0 && ms < 1000, ms + " ms");
        }
    }
}

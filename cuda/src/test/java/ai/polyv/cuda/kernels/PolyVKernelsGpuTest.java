package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

import static ai.polyv.loader.safetensors.DType.BF16;
import static ai.polyv.loader.safetensors.DType.F32;
import static ai.polyv.loader.safetensors.DType.I32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.model.MoeRouter;
import ai.polyv.core.backend.TokenPermutation;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Every PolyV CUDA kernel (fast and reference versions) against its Java reference on random inputs with
 * awkward sizes (1 token, primes, an empty expert, all tokens to one expert, windows of unequal length,
 * real PolyV shapes). Outputs are poisoned (NaN) before each run and the guard after each output is
 * checked. Skipped, with the reason, when no CUDA device is usable (CI and the development machines).
 *
 * <p>Tolerances (max abs error over max |reference| unless stated), and why:
 * <ul>
 *   <li>router logits 1e-4 relative: fp32 sums of bf16 products in a different order (hidden <= 3584).</li>
 *   <li>expert h / y 2e-2 relative: h is stored in bf16 (2^-8 relative) and feeds the down projection.</li>
 *   <li>attention {@link #ATTENTION_ABS_TOL} absolute with v ~ N(0, 1): P goes through bf16 for the
 *       tensor-core P.V (the host mirror in DeviceAlgorithmsTest measures the same effect); bf16 output
 *       adds 2^-8 relative.</li>
 *   <li>integers (ids, offsets, permutation, positions, counts) exact; ids are compared where the
 *       reference's top-k margin exceeds 1e-5 (a closer pair may legitimately swap under a different
 *       summation order).</li>
 * </ul>
 */
class PolyVKernelsGpuTest {
    static final float ATTENTION_ABS_TOL = 2e-2f;

    private static CudaProbe probe;
    private static CudaContext ctx;
    private static KernelLibrary library;
    private static KernelLookup router, permutation, experts, attention;
    private static final CUstream STREAM = new CUstream(); // the legacy default stream

    @BeforeAll
    static void setUp() {
        probe = CudaProbe.probe();
        if (!probe.available()) return;   // every test is skipped in requireDevice, with the reason
        ctx = CudaContext.open(0);
        library = new KernelLibrary(ctx.info());   // the CUDA backend's module loader (fatbin, else NVRTC)
        router = KernelLookup.of(library, "moe_router");
        permutation = KernelLookup.of(library, "token_permutation");
        experts = KernelLookup.of(library, "expert_ffn");
        attention = KernelLookup.of(library, "window_attention");
    }

    @BeforeEach
    void requireDevice() {
        Assumptions.assumeTrue(probe.available(), () -> probe.skipMessage("PolyV CUDA kernel tests"));
    }

    @AfterAll
    static void tearDown() {
        if (library != null) library.close();
        if (ctx != null) ctx.close();
    }

    /** Waits for the device; a fault (it surfaces here, not at the launch) fails naming the last kernel launched. */
    static void sync() {
        ai.polyv.cuda.driver.CudaException.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize after " + Launch.lastLaunch());
    }

    static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = KernelReferences.bf16((float) (r.nextGaussian() * scale));
        return v;
    }

    static void assertClose(float[] want, float[] got, double relTol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        double maxRef = 1e-30, maxErr = 0;
        for (int i = 0; i < want.length; i++) {
            if (!Float.isFinite(got[i])) fail(what + ": element " + i + " is " + got[i] + " (unwritten or overflow), expected " + want[i]);
            maxRef = Math.max(maxRef, Math.abs(want[i]));
            maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
        }
        assertTrue(maxErr <= relTol * maxRef, what + ": max abs error " + maxErr + " > " + relTol + " * max |ref| " + maxRef
                + "; largest errors " + Mismatches.largest(want, got, 5));
    }

    static void assertGuards(DeviceArena a, DeviceTensor... outs) {
        for (DeviceTensor t : outs) assertTrue(a.guardIntact(t), t + ": write past the end");
    }

    // ================================================================ router
    @Test
    void routerMatchesReference() {
        //            tokens hidden  M  k renorm xf32 oneExpert
        int[][] cases = {{1, 64, 4, 2, 0, 0, 0}, {7, 3584, 4, 2, 0, 0, 0}, {4096, 3584, 4, 2, 0, 0, 0}, {37, 136, 13, 3, 1, 0, 0},
                         {100, 64, 64, 8, 0, 0, 0}, {300, 64, 5, 1, 0, 1, 0}, {257, 256, 4, 2, 1, 0, 1}, {61, 72, 33, 33, 1, 1, 0}};
        Random r = new Random(1);
        MoeRouterKernel kernel = new MoeRouterKernel(router);
        Cases.each("router", cases, c -> {
            int tokens = c[0], hidden = c[1], m = c[2], k = c[3];
            boolean renorm = c[4] == 1, xf32 = c[5] == 1;
            String what = "router " + Arrays.toString(c);
            float[] x = gaussian(r, tokens * hidden, 1), gate = gaussian(r, m * hidden, 0.05);
            if (c[6] == 1) for (int h = 0; h < hidden; h++) gate[2 * hidden + h] = KernelReferences.bf16(Math.abs(x[h]) + 1); // expert 2 wins
            if (c[6] == 1) for (int t = 0; t < tokens; t++) for (int h = 0; h < hidden; h++) x[t * hidden + h] = Math.abs(x[t * hidden + h]);
            MoeRouter.Routing want = KernelReferences.router(x, gate, tokens, hidden, m, k, renorm);
            float[] wantStats = KernelReferences.routerStats(want);
            try (DeviceArena a = new DeviceArena()) {
                DeviceTensor dx = xf32 ? a.upload("x", x, tokens, hidden) : a.uploadBf16("x", x, tokens, hidden);
                DeviceTensor dg = a.uploadBf16("gate", gate, m, hidden);
                DeviceTensor logits = a.alloc("logits", F32, tokens, m), ids = a.alloc("ids", I32, tokens, k), w = a.alloc("w", F32, tokens, k);
                DeviceTensor partials = a.alloc("partials", F32, MoeRouterKernel.maxPartialBlocks(), 2, m);
                DeviceTensor counter = a.upload("counter", new int[] {0}, 1), stats = a.alloc("stats", F32, 2, m);
                float[] firstStats = null;
                for (int version = 0; version < 3; version++) {   // fast, fast again (reproducible, counter reset), reference
                    for (DeviceTensor o : new DeviceTensor[] {logits, ids, w, stats}) a.poison(o);
                    if (version < 2) kernel.launch(STREAM, dx, dg, logits, ids, w, partials, counter, stats, k, renorm);
                    else kernel.launchReference(STREAM, dx, dg, logits, ids, w, partials, counter, stats, k, renorm);
                    sync();
                    assertGuards(a, logits, ids, w, stats);
                    String v = what + (version < 2 ? " fast" : " reference");
                    assertClose(want.logits(), DeviceArena.downloadF32(logits), 1e-4, v + " logits");
                    int[] gotIds = DeviceArena.downloadI32(ids);
                    float[] gotW = DeviceArena.downloadF32(w), gotStats = DeviceArena.downloadF32(stats);
                    boolean top1Clear = true;
                    for (int t = 0; t < tokens; t++) {
                        float[] p = probs(want.logits(), t, m);
                        float[] sorted = p.clone();
                        Arrays.sort(sorted);
                        for (int j = 0; j < k; j++) {
                            float margin = j + 1 < m ? sorted[m - 1 - j] - sorted[m - 2 - j] : 1f;
                            float prev = j > 0 ? sorted[m - j] - sorted[m - 1 - j] : 1f;
                            if (margin > 1e-5f && prev > 1e-5f) assertEquals(want.ids()[t * k + j], gotIds[t * k + j], v + " id of token " + t + " slot " + j);
                            if (j == 0 && margin <= 1e-5f) top1Clear = false;
                            assertEquals(want.weights()[t * k + j], gotW[t * k + j], 1e-5f, v + " weight of token " + t + " slot " + j);
                        }
                    }
                    for (int e = 0; e < m; e++) {
                        assertEquals(wantStats[e], gotStats[e], 1e-5f * tokens + 1e-5f, v + " sum p of expert " + e);
                        if (top1Clear) assertEquals(wantStats[m + e], gotStats[m + e], v + " argmax count of expert " + e);
                    }
                    if (version == 0) firstStats = gotStats;
                    if (version == 1) assertArrayEquals(firstStats, gotStats, v + ": statistics not bitwise reproducible");
                }
                assertEquals(0, DeviceArena.downloadI32(counter)[0], what + ": done counter not reset");
            }
        });
    }

    static float[] probs(float[] logits, int t, int m) {
        float[] p = new float[m];
        float max = Float.NEGATIVE_INFINITY, sum = 0;
        for (int e = 0; e < m; e++) max = Math.max(max, logits[t * m + e]);
        for (int e = 0; e < m; e++) sum += p[e] = (float) Math.exp(logits[t * m + e] - max);
        for (int e = 0; e < m; e++) p[e] /= sum;
        return p;
    }

    // ================================================================ permutation + combine
    static int[] randomTopK(Random r, int tokens, int k, int m, int mode) {
        int[] ids = new int[tokens * k];
        for (int t = 0; t < tokens; t++) {
            Set<Integer> used = new HashSet<>();
            for (int j = 0; j < k; j++) {
                int e;
                do {
                    e = switch (mode) {
                        case 1 -> j;                               // all tokens to the same experts
                        case 2 -> 1 + r.nextInt(m - 1);            // expert 0 empty
                        default -> r.nextInt(m);
                    };
                } while (!used.add(e));
                ids[t * k + j] = e;
            }
        }
        return ids;
    }

    @Test
    void permutationAndCombineMatchReference() {
        //               tokens k  M  mode hidden
        int[][] cases = {{1, 1, 1, 0, 64}, {1, 2, 4, 0, 3584}, {4096, 2, 4, 0, 3584}, {1031, 3, 7, 0, 100}, {333, 2, 4, 1, 64},
                         {500, 2, 4, 2, 36}, {200, 8, 64, 0, 64}, {2049, 1, 3, 0, 8}};
        Random r = new Random(2);
        TokenPermutationKernel kernel = new TokenPermutationKernel(permutation);
        Cases.each("permutation", cases, c -> {
            int tokens = c[0], k = c[1], m = c[2], hidden = c[4], n = tokens * k;
            String what = "permutation " + Arrays.toString(c);
            int[] ids = randomTopK(r, tokens, k, m, c[3]);
            float[] w = new float[n];
            for (int i = 0; i < n; i++) w[i] = r.nextFloat();
            TokenPermutation want = TokenPermutation.of(tokens, k, m, ids, w);
            int[] wantPos = TokenPermutation.positions(tokens, k, m, ids);
            float[] x = gaussian(r, tokens * hidden, 1), y = gaussian(r, n * hidden, 1);
            try (DeviceArena a = new DeviceArena()) {
                DeviceTensor dIds = a.upload("ids", ids, tokens, k), dW = a.upload("w", w, tokens, k);
                DeviceTensor off = a.alloc("offsets", I32, m + 1), pt = a.alloc("permToken", I32, n), pw = a.alloc("permWeight", F32, n);
                DeviceTensor pos = a.alloc("pos", I32, tokens, k), bad = a.alloc("bad", I32, 1);
                for (int version = 0; version < 2; version++) {
                    for (DeviceTensor o : new DeviceTensor[] {off, pt, pw, pos, bad}) a.poison(o);
                    if (version == 0) kernel.align(STREAM, dIds, dW, off, pt, pw, pos, bad, m);
                    else kernel.alignReference(STREAM, dIds, dW, off, pt, pw, pos, bad, m);
                    sync();
                    assertGuards(a, off, pt, pw, pos, bad);
                    String v = what + (version == 0 ? " v2" : " v1");
                    assertArrayEquals(want.offsets(), DeviceArena.downloadI32(off), v + " offsets");
                    assertArrayEquals(want.tokens(), DeviceArena.downloadI32(pt), v + " permToken");
                    assertArrayEquals(want.weights(), DeviceArena.downloadF32(pw), v + " permWeight");
                    assertArrayEquals(wantPos, DeviceArena.downloadI32(pos), v + " pos");
                    if (version == 0) assertEquals(0, DeviceArena.downloadI32(bad)[0], v + " bad ids");
                }
                if (hidden % 8 == 0) {   // bf16 rows of hidden % 8 == 0 are 16-byte multiples
                    DeviceTensor dx = a.uploadBf16("x", x, tokens, hidden), xp = a.alloc("xPerm", BF16, n, hidden);
                    a.poison(xp);
                    kernel.permuteRows(STREAM, dx, pt, xp);
                    sync();
                    assertGuards(a, xp);
                    float[] got = DeviceArena.downloadBf16(xp);
                    for (int i = 0; i < n; i++) {
                        for (int h = 0; h < hidden; h++) {
                            assertEquals(x[want.tokens()[i] * hidden + h], got[i * hidden + h], what + " xPerm row " + i);
                        }
                    }
                }
                if (hidden % 4 == 0) {
                    DeviceTensor dy = a.upload("y", y, n, hidden), out = a.alloc("out", F32, tokens, hidden);
                    float[] wantOut = KernelReferences.combine(y, wantPos, w, tokens, k, hidden);
                    float[] first = null;
                    for (int version = 0; version < 3; version++) {
                        a.poison(out);
                        if (version < 2) kernel.combine(STREAM, dy, pos, dW, out);
                        else kernel.combineReference(STREAM, dy, pos, dW, out);
                        sync();
                        assertGuards(a, out);
                        float[] got = DeviceArena.downloadF32(out);
                        assertClose(wantOut, got, 1e-6, what + " combine v" + (version < 2 ? 2 : 1));
                        if (version == 0) first = got;
                        if (version == 1) assertArrayEquals(first, got, what + " combine not bitwise reproducible");
                    }
                    DeviceTensor outBf = a.alloc("outBf16", BF16, tokens, hidden);
                    a.poison(outBf);
                    kernel.combine(STREAM, dy, pos, null, outBf);
                    sync();
                    assertGuards(a, outBf);
                    assertClose(KernelReferences.bf16(KernelReferences.combine(y, wantPos, null, tokens, k, hidden)),
                            DeviceArena.downloadBf16(outBf), 1e-2, what + " combine to bf16, unweighted");
                }
            }
        });
    }

    // ================================================================ experts
    @Test
    void expertFfnMatchesReferenceOnRaggedGroups() {
        //                   hidden ffn  counts per expert (entries in expert order)
        Object[][] cases = {{136, 200, new int[] {0, 1, 129, 300}}, {64, 64, new int[] {5}}, {3584, 256, new int[] {1, 0, 1, 0}},
                            {40, 88, new int[] {128, 0, 0, 257, 3}}, {72, 24, new int[] {2, 3}}};
        Random r = new Random(3);
        ExpertFfnKernel kernel = new ExpertFfnKernel(experts);
        Cases.each("expert FFN", cases, c -> {
            int hidden = (int) c[0], ffn = (int) c[1];
            int[] counts = (int[]) c[2];
            int m = counts.length;
            int[] offsets = new int[m + 1];
            for (int e = 0; e < m; e++) offsets[e + 1] = offsets[e] + counts[e];
            int n = offsets[m], tokens = Math.max(1, n / 2 + 1);
            String what = "experts hidden " + hidden + " ffn " + ffn + " counts " + Arrays.toString(counts);
            ExpertFfnKernel.checkOffsets(offsets, m, n);
            int[] aRows = new int[n];
            for (int i = 0; i < n; i++) aRows[i] = r.nextInt(tokens);
            float[] x = gaussian(r, tokens * hidden, 1), gw = gaussian(r, m * ffn * hidden, 0.05), uw = gaussian(r, m * ffn * hidden, 0.05);
            float[] dw = gaussian(r, m * hidden * ffn, 0.05), scale = new float[n];
            for (int i = 0; i < n; i++) scale[i] = r.nextFloat();
            float[] wantH = KernelReferences.expertGateUp(x, aRows, gw, uw, offsets, hidden, ffn, true);
            float[] wantY = KernelReferences.expertDown(wantH, dw, offsets, scale, hidden, ffn);
            try (DeviceArena a = new DeviceArena()) {
                DeviceTensor dx = a.uploadBf16("x", x, tokens, hidden), rows = a.upload("aRows", aRows, n);
                DeviceTensor dg = a.uploadBf16("gate_w", gw, m, ffn, hidden), du = a.uploadBf16("up_w", uw, m, ffn, hidden);
                DeviceTensor dd = a.uploadBf16("down_w", dw, m, hidden, ffn), off = a.upload("offsets", offsets, m + 1);
                DeviceTensor ds = a.upload("scale", scale, n), h = a.alloc("h", BF16, n, ffn), y = a.alloc("y", F32, n, hidden);
                for (String path : new String[] {"MMA", "GEMV", "reference"}) {
                    a.poison(h);
                    a.poison(y);
                    if (path.equals("reference")) {
                        kernel.gateUpReference(STREAM, dx, rows, dg, du, off, h);
                        kernel.downReference(STREAM, h, dd, off, ds, y);
                    } else {
                        ExpertFfnKernel.Path p = ExpertFfnKernel.Path.valueOf(path);
                        kernel.gateUp(STREAM, dx, rows, dg, du, off, h, p);
                        kernel.down(STREAM, h, dd, off, ds, y, p);
                    }
                    sync();
                    assertGuards(a, h, y);
                    assertClose(wantH, DeviceArena.downloadBf16(h), 2e-2, what + " " + path + " h");
                    assertClose(wantY, DeviceArena.downloadF32(y), 2e-2, what + " " + path + " y");
                }
            }
        });
    }

    /** Real PolyV expert shapes (hidden 3584, ffn 18944, 4 experts), decode (1 token, top-2) and a 128-entry prefill (rows sampled). */
    @Test
    void expertFfnRealShapes() {
        Assumptions.assumeFalse(CudaProbe.smallShapes(), () -> CudaProbe.realSizeSkip("expert FFN at the real PolyV shapes"));
        int hidden = 3584, ffn = 18944, m = 4, per = ffn * hidden;
        Random r = new Random(4);
        // 3 x 271M bf16 weights held as bits (the surefire heap is 6 GB); a cheap generator instead of nextGaussian
        short[] gw = uniformBf16Bits(41, m * per, 0.02f), uw = uniformBf16Bits(42, m * per, 0.02f), dw = uniformBf16Bits(43, m * per, 0.02f);
        ExpertFfnKernel kernel = new ExpertFfnKernel(experts);
        try (DeviceArena a = new DeviceArena()) {
            DeviceTensor dg = a.uploadBf16Bits("gate_w", gw, m, ffn, hidden), du = a.uploadBf16Bits("up_w", uw, m, ffn, hidden);
            DeviceTensor dd = a.uploadBf16Bits("down_w", dw, m, hidden, ffn);
            for (int[] counts : new int[][] {{1, 0, 0, 1}, {40, 0, 70, 18}}) {
                int[] offsets = new int[m + 1];
                for (int e = 0; e < m; e++) offsets[e + 1] = offsets[e] + counts[e];
                int n = offsets[m], tokens = Math.max(1, n / 2);
                int[] aRows = new int[n];
                for (int i = 0; i < n; i++) aRows[i] = i % tokens;
                float[] x = gaussian(r, tokens * hidden, 1), scale = new float[n];
                Arrays.fill(scale, 0.5f);
                DeviceTensor dx = a.uploadBf16("x", x, tokens, hidden), rows = a.upload("aRows", aRows, n), off = a.upload("offsets", offsets, m + 1);
                DeviceTensor ds = a.upload("scale", scale, n), h = a.alloc("h", BF16, n, ffn), y = a.alloc("y", F32, n, hidden);
                a.poison(h);
                a.poison(y);
                ExpertFfnKernel.Plan p1 = kernel.gateUp(STREAM, dx, rows, dg, du, off, h, null);
                kernel.down(STREAM, h, dd, off, ds, y, null);
                sync();
                assertGuards(a, h, y);
                float[] gotH = DeviceArena.downloadBf16(h), gotY = DeviceArena.downloadF32(y);
                // reference on a sample of entries at the expert boundaries (the full reference is ~10^11 MACs in Java)
                int[] sample = n <= 4 ? new int[] {0, n - 1} : new int[] {0, 39, 40, 109, 110, n - 1};
                int[] one = {0, 1};   // a one-entry, one-expert problem
                for (int i : sample) {
                    int e = 0;
                    while (offsets[e + 1] <= i) e++;
                    float[] xi = Arrays.copyOfRange(x, aRows[i] * hidden, (aRows[i] + 1) * hidden);
                    float[] wantH = KernelReferences.expertGateUp(xi, null, slice(gw, e, per), slice(uw, e, per), one, hidden, ffn, true);
                    float[] wantY = KernelReferences.expertDown(wantH, slice(dw, e, per), one, new float[] {0.5f}, hidden, ffn);
                    assertClose(wantH, Arrays.copyOfRange(gotH, i * ffn, (i + 1) * ffn), 2e-2, "real shape " + p1.path() + " h entry " + i);
                    assertClose(wantY, Arrays.copyOfRange(gotY, i * hidden, (i + 1) * hidden), 2e-2, "real shape " + p1.path() + " y entry " + i);
                }
            }
        }
    }

    /** bf16 bits uniform in [-scale, scale) from a xorshift generator. */
    static short[] uniformBf16Bits(long seed, int n, float scale) {
        short[] v = new short[n];
        long x = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            v[i] = ai.polyv.core.cpu.WeightFormat.toBf16(((x >>> 40) * 0x1p-24f * 2 - 1) * scale);
        }
        return v;
    }

    /** Expert e's {@code per} weights as floats. */
    static float[] slice(short[] bits, int e, int per) {
        float[] f = new float[per];
        for (int i = 0; i < per; i++) f[i] = Float.intBitsToFloat((bits[e * per + i] & 0xFFFF) << 16);   // 4 * 18944 * 3584 < 2^31
        return f;
    }

    // ================================================================ attention
    @Test
    void windowAttentionMatchesReference() {
        // small shapes (emulated device, sanitizer): no real-size case, and the full frame is 11 KV tiles, not 41
        boolean small = CudaProbe.smallShapes();
        Object[][] cases = small ? new Object[][] {
            {2, 80, new int[] {0, 1, 38, 38, 102, 152}},
            {2, 80, new int[] {0, 650}},                         // one frame of 11 KV tiles, partial last
            {3, 64, new int[] {0, 17, 81, 200}},
            {1, 128, new int[] {0, 64, 129}},
        } : new Object[][] {
            {16, 80, windows(5184, 64)},                         // real: 5184 patches, 16 x 80, windows of 64
            {2, 80, new int[] {0, 1, 38, 38, 102, 152}},         // unequal windows: 1, 37, empty, 64, 50
            {2, 80, new int[] {0, 2592}},                        // one full frame (41 KV tiles, partial last)
            {3, 64, new int[] {0, 17, 81, 200}},
            {1, 128, new int[] {0, 64, 129}},
        };
        Random r = new Random(5);
        WindowAttentionKernel kernel = new WindowAttentionKernel(attention);
        Cases.each("window attention", cases, c -> {
            int heads = (int) c[0], hd = (int) c[1];
            int[] cu = (int[]) c[2];
            int tokens = cu[cu.length - 1], width = heads * hd;
            String what = "attention heads " + heads + " hd " + hd + " seqs " + (cu.length - 1);
            float[] q = gaussian(r, tokens * width, 1), k = gaussian(r, tokens * width, 1), v = gaussian(r, tokens * width, 1);
            float[] want = KernelReferences.windowAttention(q, k, v, tokens, heads, hd, cu);
            try (DeviceArena a = new DeviceArena()) {
                DeviceTensor dq = a.uploadBf16("q", q, tokens, width), dk = a.uploadBf16("k", k, tokens, width), dv = a.uploadBf16("v", v, tokens, width);
                DeviceTensor dcu = a.upload("cu_seqlens", cu, cu.length);
                DeviceTensor o32 = a.alloc("out", F32, tokens, width), o16 = a.alloc("out_bf16", BF16, tokens, width);
                a.poison(o32);
                kernel.launch(STREAM, dq, dk, dv, cu, dcu, heads, o32);
                sync();
                assertGuards(a, o32);
                assertCloseAbs(want, DeviceArena.downloadF32(o32), ATTENTION_ABS_TOL, what + " v2 f32 out");
                a.poison(o16);
                kernel.launch(STREAM, dq, dk, dv, cu, dcu, heads, o16);
                sync();
                assertGuards(a, o16);
                assertCloseAbs(want, DeviceArena.downloadBf16(o16), ATTENTION_ABS_TOL + 1e-2f, what + " v2 bf16 out");
                a.poison(o32);
                kernel.launchReference(STREAM, dq, dk, dv, cu, dcu, heads, o32);
                sync();
                assertGuards(a, o32);
                assertCloseAbs(want, DeviceArena.downloadF32(o32), 1e-4f, what + " v1");
                if (tokens < 1000) {   // the fp32-input reference kernel
                    DeviceTensor fq = a.upload("q", q, tokens, width), fk = a.upload("k", k, tokens, width), fv = a.upload("v", v, tokens, width);
                    a.poison(o32);
                    kernel.launchReference(STREAM, fq, fk, fv, cu, dcu, heads, o32);
                    sync();
                    assertGuards(a, o32);
                    assertCloseAbs(want, DeviceArena.downloadF32(o32), 1e-4f, what + " v1 f32 inputs");
                }
            }
        });
    }

    static int[] windows(int tokens, int w) {
        int[] cu = new int[(tokens + w - 1) / w + 1];
        for (int s = 1; s < cu.length; s++) cu[s] = Math.min(tokens, s * w);
        return cu;
    }

    static void assertCloseAbs(float[] want, float[] got, float tol, String what) {
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(want[i] - got[i]) <= tol)) fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i] + " +- " + tol);
        }
    }
}

package ai.polyv.bench;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongToIntFunction;

/**
 * Every CPU op benchmark case, by name, shared by {@code polyv bench ops} and the JMH benchmarks. Shapes come
 * from Qwen2.5-VL-7B (decoder width 3584, FFN 18944, 28 query / 4 KV heads of 128; vision width 1280, 16
 * heads of 80, windows of 8x8 patches) and the PolyV MoE (4 experts, top-2).
 *
 * <p>Each case allocates enough rotated input sets to cover {@code rotateBytes} (at most a per-case number),
 * so memory-bound ops are measured from memory, not from a cache that holds one set.
 *
 * <p>A case is one {@link #register} call: what is measured ({@link OpCase.Info}), the seed of its
 * {@link Inputs}, how many sets a rotated working set of some size needs, and its {@link Setup}: what the
 * sets share (allocated once), then one input set per call and the op on it.
 */
public final class CpuOpCases {
    private CpuOpCases() {}

    /** Rotated working set of a full run: about twice the 260 MiB last-level cache this was tuned on. */
    public static final long DEFAULT_ROTATE_BYTES = 512L << 20;
    /** Rotated working set of a quick run. */
    public static final long QUICK_ROTATE_BYTES = 64L << 20;

    /** Allocates what every input set of a case shares from {@code in}; returns the maker of one set. */
    @FunctionalInterface
    private interface Setup {
        InputSet setup(CpuBackend be, Inputs in);
    }

    /** Allocates one more input set; returns the op on it, which returns one value it wrote (kept alive for JMH). */
    @FunctionalInterface
    private interface InputSet {
        DoubleSupplier allocate();
    }

    private record Entry(OpCase.Info info, long seed, LongToIntFunction sets, Setup setup) {}

    private static final Map<String, Entry> CASES = new LinkedHashMap<>();

    static {
        // decoder projections at n = 1 (decode): q/o [3584, 3584], gate/up [18944, 3584], down [3584, 18944]
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {
            gemv(dt, 3584, 3584);
            gemv(dt, 18944, 3584);
            if (dt == DType.BF16) gemv(dt, 3584, 18944);
        }
        // a dense Qwen2-shaped decoder of width 1024 (FFN 2816): the FFN up projection and the untied lm_head over
        // the 151,680-token vocabulary (64% of the bytes read per decode step in such a model)
        gemv(DType.BF16, 2816, 1024);
        gemv(DType.BF16, 151680, 1024);
        // batched decode (8 sequences a step: SmallBatchGemm, still bound by the weight bytes), prefill / MoE expert batches
        gemm(DType.BF16, 8, 3584, 3584, Bound.MEMORY);
        for (int n : new int[] {64, 256, 512}) gemm(DType.BF16, n, 3584, 3584);
        gemm(DType.F32, 256, 3584, 3584);
        gemm(DType.BF16, 256, 18944, 3584);
        routerLogits();

        rmsNorm(64, 3584);
        rmsNorm(1, 3584);
        siluMul(64, 18944);
        gelu(256, 5120);
        add(64, 3584);
        copy(8, 512);

        embedding();
        gatherRows();
        scatterAddScaled();
        permutation();

        rope();
        causal(1, 1023);
        causal(256, 0);
        segments(16, 64);
        segments(1, 1024);

        softmaxTopK();
    }

    private static void register(OpCase.Info info, long seed, LongToIntFunction sets, Setup setup) {
        if (CASES.put(info.name(), new Entry(info, seed, sets, setup)) != null) throw new IllegalStateException("duplicate op case " + info.name());
    }

    /** Sets of {@code setBytes} that cover the rotated working set, at most {@code maxSets}. */
    private static LongToIntFunction rotated(long setBytes, int maxSets) {
        return rotate -> Inputs.rotation(setBytes, rotate, maxSets);
    }

    /** Always {@code sets} sets, whatever the rotated working set. */
    private static LongToIntFunction fixed(int sets) {
        return rotate -> sets;
    }

    /** The last element of {@code t}: what a case returns of its output. */
    private static double last(Tensor t) {
        return t.getFloat(t.numel() - 1);
    }

    /** All case names, in table order. */
    public static List<String> names() {
        return List.copyOf(CASES.keySet());
    }

    /** The case names of one family ({@code matmul, elementwise, rows, attention, routing}). */
    public static List<String> names(String family) {
        List<String> out = new ArrayList<>();
        CASES.forEach((n, e) -> {
            if (e.info().family().equals(family)) out.add(n);
        });
        if (out.isEmpty()) throw new IllegalArgumentException("no op family '" + family + "'");
        return out;
    }

    /** Builds one case (allocates and fills its inputs). */
    public static OpCase create(String name, CpuBackend be, long rotateBytes) {
        Entry e = CASES.get(name);
        if (e == null) throw new IllegalArgumentException("unknown op case '" + name + "' (known: " + String.join(", ", CASES.keySet()) + ")");
        Arena arena = Arena.ofShared();
        try {
            InputSet maker = e.setup().setup(be, new Inputs(arena, e.seed()));
            DoubleSupplier[] runs = new DoubleSupplier[e.sets().applyAsInt(rotateBytes)];
            for (int s = 0; s < runs.length; s++) runs[s] = maker.allocate();
            return new OpCase(e.info(), arena, runs.length, s -> runs[s].getAsDouble());
        } catch (RuntimeException | Error ex) {
            arena.close();
            throw ex;
        }
    }

    /** What case {@code name} measures, without allocating its inputs. */
    static OpCase.Info info(String name) {
        Entry e = CASES.get(name);
        if (e == null) throw new IllegalArgumentException("unknown op case '" + name + "'");
        return e.info();
    }

    // ---------------------------------------------------------------- matmul

    private static void gemv(DType dt, int m, int k) {
        String name = "gemv." + dt.name().toLowerCase() + "." + m + "x" + k;
        long setBytes = (long) m * k * dt.byteSize() + 4L * k + 4L * m;
        register(new OpCase.Info(name, "matmul", "matmul", "x[1," + k + "] . w[" + m + "," + k + "]^T " + dt, Bound.MEMORY, setBytes, 2.0 * m * k),
                name.hashCode(), rotated(setBytes, 64), (be, in) -> () -> {
                    Tensor w = in.random(dt, 0.05f, m, k), x = in.f32(1, k), out = in.zeros(1, m);   // [m, k], [1, k], [1, m]
                    return () -> { be.matmul(x, w, null, out); return last(out); };
                });
    }

    private static void gemm(DType dt, int n, int m, int k) {
        gemm(dt, n, m, k, Bound.COMPUTE);
    }

    private static void gemm(DType dt, int n, int m, int k, Bound bound) {
        String name = "gemm." + dt.name().toLowerCase() + ".n" + n + "." + m + "x" + k;
        long setBytes = (long) m * k * dt.byteSize() + 4L * n * k + 4L * n * m;
        register(new OpCase.Info(name, "matmul", "matmul", "x[" + n + "," + k + "] . w[" + m + "," + k + "]^T " + dt, bound, setBytes,
                2.0 * n * m * k), name.hashCode(), rotated(setBytes, 3), (be, in) -> () -> {
                    Tensor w = in.random(dt, 0.05f, m, k), x = in.f32(n, k), out = in.zeros(n, m);   // [m, k], [n, k], [n, m]
                    return () -> { be.matmul(x, w, null, out); return last(out); };
                });
    }

    /** MoE router logits: 256 tokens against 4 expert rows (a GEMM with a single 16-row tile); the gate is shared. */
    private static void routerLogits() {
        int n = 256, m = 4, k = 3584;
        long setBytes = 4L * n * k + 2L * m * k + 4L * n * m;
        register(new OpCase.Info("matmul.router.n256.4x3584", "routing", "matmul", "x[256,3584] . gate[4,3584]^T BF16", Bound.MEMORY, setBytes,
                2.0 * n * m * k), 11, rotated(setBytes, 64), (be, in) -> {
                    Tensor gate = in.random(DType.BF16, 0.05f, m, k);                                // [m, k]
                    return () -> {
                        Tensor x = in.f32(n, k), out = in.zeros(n, m);                               // [n, k], [n, m]
                        return () -> { be.matmul(x, gate, null, out); return last(out); };
                    };
                });
    }

    // ---------------------------------------------------------------- element-wise

    private static void rmsNorm(int rows, int dim) {
        long setBytes = 8L * rows * dim;
        register(new OpCase.Info("rmsNorm." + rows + "x" + dim, "elementwise", "rmsNorm", "[" + rows + "," + dim + "]", Bound.MEMORY,
                setBytes + 4L * dim, 4.0 * rows * dim), 21, rotated(setBytes, 256), (be, in) -> {
                    Tensor w = in.f32(dim);                                                          // [dim], shared
                    return () -> {
                        Tensor x = in.f32(rows, dim), out = in.zeros(rows, dim);                     // [rows, dim]
                        return () -> { be.rmsNorm(x, w, 1e-6f, out); return last(out); };
                    };
                });
    }

    private static void siluMul(int rows, int d) {
        long setBytes = 12L * rows * d;
        register(new OpCase.Info("siluMul." + rows + "x" + d, "elementwise", "siluMul", "[" + rows + "," + d + "]", Bound.MEMORY, setBytes,
                4.0 * rows * d), 22, rotated(setBytes, 256), (be, in) -> () -> {
                    Tensor g = in.f32(rows, d), u = in.f32(rows, d), out = in.zeros(rows, d);      // [rows, d]
                    return () -> { be.siluMul(g, u, out); return last(out); };
                });
    }

    private static void gelu(int rows, int d) {
        long setBytes = 8L * rows * d;
        register(new OpCase.Info("gelu." + rows + "x" + d, "elementwise", "gelu", "[" + rows + "," + d + "] (merger/synergy head width)",
                Bound.MEMORY, setBytes, 0), 23, rotated(setBytes, 256), (be, in) -> () -> {
                    Tensor x = in.random(DType.F32, 4f, rows, d), out = in.zeros(rows, d);        // [rows, d]
                    return () -> { be.gelu(x, out); return last(out); };
                });
    }

    private static void add(int rows, int d) {
        long setBytes = 12L * rows * d;
        register(new OpCase.Info("add." + rows + "x" + d, "elementwise", "add", "[" + rows + "," + d + "]", Bound.MEMORY, setBytes,
                (double) rows * d), 24, rotated(setBytes, 256), (be, in) -> () -> {
                    Tensor a = in.f32(rows, d), b = in.f32(rows, d), out = in.zeros(rows, d);      // [rows, d]
                    return () -> { be.add(a, b, out); return last(out); };
                });
    }

    /** Batched decode's KV write: 8 rows of K (4 kv heads x 128) into a session cache, as {@code Session} does per layer. */
    private static void copy(int rows, int d) {
        long setBytes = 8L * rows * d;
        register(new OpCase.Info("copy." + rows + "x" + d, "elementwise", "copy", "[" + rows + "," + d + "] into a cache view", Bound.MEMORY, setBytes,
                0), 25, rotated(setBytes, 256), (be, in) -> () -> {
                    Tensor src = in.f32(rows, d), cache = in.zeros(4L * rows, d);               // [rows, d], [4 rows, d]
                    Tensor dst = cache.rows(rows, rows);
                    return () -> { be.copy(src, dst); return last(dst); };
                });
    }

    // ---------------------------------------------------------------- row movement

    private static void embedding() {
        int vocab = 32768, d = 3584, n = 64;
        register(new OpCase.Info("embedding.bf16.64of32768x3584", "rows", "embedding", "64 ids of table[32768,3584] BF16 -> F32",
                Bound.MEMORY, (double) n * d * (2 + 4), 0), 31, fixed(64), (be, in) -> {
                    Tensor table = in.random(DType.BF16, 0.05f, vocab, d);   // [vocab, d], 235 MB: larger than one cache's worth
                    return () -> {
                        int[] ids = in.ids(n, vocab);                                                // [n]
                        Tensor out = in.zeros(n, d);                                                 // [n, d]
                        return () -> { be.embedding(table, ids, out); return last(out); };
                    };
                });
    }

    /** MoE permutation of 256 tokens, top-2: 512 row copies in expert order. */
    private static void gatherRows() {
        int tokens = 256, rows = 512, d = 3584;
        register(new OpCase.Info("gatherRows.512of256x3584", "rows", "gatherRows", "512 rows of [256,3584] (MoE permute, 256 tokens top-2)",
                Bound.MEMORY, 2.0 * 4 * rows * d, 0), 32, rotated(4L * d * (tokens + rows), 64), (be, in) -> () -> {
                    Tensor src = in.f32(tokens, d), out = in.zeros(rows, d);                       // [tokens, d], [rows, d]
                    int[] index = in.ids(rows, tokens);                                              // [rows]
                    return () -> { be.gatherRows(src, index, out); return last(out); };
                });
    }

    /** MoE weighted combine of 256 tokens, top-2: out[token] += w * expertOut[row]. */
    private static void scatterAddScaled() {
        int tokens = 256, rows = 512, d = 3584;
        register(new OpCase.Info("scatterAddScaled.512to256x3584", "rows", "scatterAddScaled",
                "512 rows into [256,3584] (MoE combine, 256 tokens top-2)", Bound.MEMORY, 3.0 * 4 * rows * d, 2.0 * rows * d), 33,
                rotated(4L * d * (tokens + rows), 64), (be, in) -> () -> {
                    Tensor src = in.f32(rows, d), out = in.zeros(tokens, d);                       // [rows, d], [tokens, d]
                    int[] index = in.ids(rows, tokens);                                              // [rows]
                    float[] scale = new float[rows];                                                 // [rows]
                    Arrays.fill(scale, 0.5f);
                    return () -> { be.scatterAddScaled(src, index, scale, out); return last(out); };
                });
    }

    /** Host-side grouping of 4096 tokens x top-2 by expert (counting sort, stable by token). */
    private static void permutation() {
        int n = 4096, k = 2, experts = 4;
        register(new OpCase.Info("permutation.4096x2of4", "rows", "TokenPermutation.of", "4096 tokens x top-2 of 4 experts (host)",
                Bound.MEMORY, 16.0 * n * k, 0), 34, fixed(16), (be, in) -> () -> {
                    int[] first = in.ids(n, experts);
                    int[] ids = new int[n * k];                                                      // [n, k]
                    float[] w = new float[n * k];                                                    // [n, k]
                    for (int t = 0; t < n; t++) {
                        ids[t * k] = first[t];
                        ids[t * k + 1] = (first[t] + 1) % experts;
                        w[t * k] = 0.6f;
                        w[t * k + 1] = 0.4f;
                    }
                    return () -> TokenPermutation.of(n, k, experts, ids, w).tokens()[n * k - 1];
                });
    }

    // ---------------------------------------------------------------- attention

    private static void rope() {
        int n = 256, heads = 28, hd = 128;
        long setBytes = 8L * n * heads * hd + 8L * n * hd;
        register(new OpCase.Info("rope.256x28x128", "attention", "rope", "q[256, 28x128] in place", Bound.MEMORY, setBytes,
                3.0 * n * heads * hd), 41, rotated(setBytes, 64), (be, in) -> () -> {
                    Tensor x = in.f32(n, (long) heads * hd), cos = in.f32(n, hd), sin = in.f32(n, hd);   // [n, heads*hd], [n, hd]
                    return () -> { be.rope(x, heads, cos, sin); return last(x); };
                });
    }

    /** Decoder attention, 28 heads / 4 KV heads of 128: {@code n} queries at positions {@code start..}. */
    private static void causal(int n, int start) {
        int heads = 28, kvh = 4, hd = 128, ctx = start + n;
        long setBytes = 2L * 4 * ctx * kvh * hd + 8L * n * heads * hd;
        double pairs = n == 1 ? ctx : (double) n * (n + 1) / 2 + (double) n * start;   // (query, key) pairs
        String name = n == 1 ? "attentionCausal.decode.ctx" + ctx : "attentionCausal.prefill.n" + n;
        register(new OpCase.Info(name, "attention", "attentionCausal", n + " queries, " + ctx + " keys, 28 heads / 4 kv x 128",
                n == 1 ? Bound.MEMORY : Bound.COMPUTE, setBytes, 4.0 * heads * hd * pairs), 42 + n, rotated(setBytes, n == 1 ? 64 : 4),
                (be, in) -> () -> {
                    Tensor q = in.f32(n, (long) heads * hd);                                         // [n, heads*hd]
                    Tensor k = in.f32(ctx, (long) kvh * hd), v = in.f32(ctx, (long) kvh * hd);      // [ctx, kvh*hd]
                    Tensor out = in.zeros(n, (long) heads * hd);                                     // [n, heads*hd]
                    return () -> { be.attentionCausal(q, k, v, out, heads, kvh, start); return last(out); };
                });
    }

    /** Vision attention, 16 heads of 80, {@code segs} segments of {@code len} patches. */
    private static void segments(int segs, int len) {
        int heads = 16, hd = 80, n = segs * len;
        long setBytes = 16L * n * heads * hd;
        int[] cu = new int[segs + 1];                                                                // [segs + 1]
        for (int i = 0; i <= segs; i++) cu[i] = i * len;
        String name = segs == 1 ? "attentionSegments.full.1x" + len : "attentionSegments.window." + segs + "x" + len;
        register(new OpCase.Info(name, "attention", "attentionSegments", segs + " segments x " + len + " patches, 16 heads x 80",
                Bound.COMPUTE, setBytes, 4.0 * heads * hd * segs * (double) len * len), 43 + segs, rotated(setBytes, 4), (be, in) -> () -> {
                    long w = (long) heads * hd;
                    Tensor q = in.f32(n, w), k = in.f32(n, w), v = in.f32(n, w), out = in.zeros(n, w);   // [n, heads*hd]
                    return () -> { be.attentionSegments(q, k, v, out, heads, cu); return last(out); };
                });
    }

    // ---------------------------------------------------------------- routing

    private static void softmaxTopK() {
        int n = 4096, m = 4, k = 2;
        long setBytes = 4L * n * m + 8L * n * k;
        register(new OpCase.Info("softmaxTopK.4096x4.k2", "routing", "softmaxTopK", "logits[4096,4] -> top-2", Bound.MEMORY, setBytes, 0), 51,
                rotated(setBytes, 64), (be, in) -> () -> {
                    Tensor logits = in.random(DType.F32, 3f, n, m);                                  // [n, m]
                    int[] ids = new int[n * k];                                                      // [n, k]
                    float[] w = new float[n * k];                                                    // [n, k]
                    return () -> { be.softmaxTopK(logits, k, false, ids, w); return w[n * k - 1] + ids[n * k - 1]; };
                });
    }
}

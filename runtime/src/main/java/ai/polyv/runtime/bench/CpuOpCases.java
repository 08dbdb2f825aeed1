package ai.polyv.runtime.bench;

import ai.polyv.runtime.backend.CpuBackend;
import ai.polyv.runtime.model.TokenPermutation;
import ai.polyv.runtime.tensor.DType;
import ai.polyv.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every CPU op benchmark case, by name, shared by {@code polyv bench ops} and the JMH benchmarks. Shapes come
 * from Qwen2.5-VL-7B (decoder width 3584, FFN 18944, 28 query / 4 KV heads of 128; vision width 1280, 16
 * heads of 80, windows of 8x8 patches) and the PolyV MoE (4 experts, top-2).
 *
 * <p>Each case allocates enough rotated input sets to cover {@code rotateBytes} (at most a per-case number),
 * so memory-bound ops are measured from memory, not from a cache that holds one set.
 */
public final class CpuOpCases {
    private CpuOpCases() {}

    /** Rotated working set of a full run: about twice the 260 MiB last-level cache this was tuned on. */
    public static final long DEFAULT_ROTATE_BYTES = 512L << 20;
    /** Rotated working set of a quick run. */
    public static final long QUICK_ROTATE_BYTES = 64L << 20;

    @FunctionalInterface
    private interface Builder {
        OpCase build(CpuBackend be, long rotateBytes);
    }

    private record Entry(String family, Builder builder) {}

    private static final Map<String, Entry> CASES = new LinkedHashMap<>();

    static {
        // decoder projections at n = 1 (decode): q/o [3584, 3584], gate/up [18944, 3584], down [3584, 18944]
        for (DType dt : new DType[] {DType.BF16, DType.F32}) {
            gemv(dt, 3584, 3584);
            gemv(dt, 18944, 3584);
            if (dt == DType.BF16) gemv(dt, 3584, 18944);
        }
        // prefill / MoE expert batches
        for (int n : new int[] {64, 256, 512}) gemm(DType.BF16, n, 3584, 3584);
        gemm(DType.F32, 256, 3584, 3584);
        gemm(DType.BF16, 256, 18944, 3584);
        register("matmul.router.n256.4x3584", "routing", CpuOpCases::routerLogits);

        register("rmsNorm.64x3584", "elementwise", (be, r) -> rmsNorm(be, r, 64, 3584));
        register("rmsNorm.1x3584", "elementwise", (be, r) -> rmsNorm(be, r, 1, 3584));
        register("siluMul.64x18944", "elementwise", (be, r) -> siluMul(be, r, 64, 18944));
        register("gelu.256x5120", "elementwise", (be, r) -> gelu(be, r, 256, 5120));
        register("add.64x3584", "elementwise", (be, r) -> add(be, r, 64, 3584));

        register("embedding.bf16.64of32768x3584", "rows", CpuOpCases::embedding);
        register("gatherRows.512of256x3584", "rows", CpuOpCases::gatherRows);
        register("scatterAddScaled.512to256x3584", "rows", CpuOpCases::scatterAddScaled);
        register("permutation.4096x2of4", "rows", CpuOpCases::permutation);

        register("rope.256x28x128", "attention", CpuOpCases::rope);
        register("attentionCausal.decode.ctx1024", "attention", (be, r) -> causal(be, r, 1, 1023));
        register("attentionCausal.prefill.n256", "attention", (be, r) -> causal(be, r, 256, 0));
        register("attentionSegments.window.16x64", "attention", (be, r) -> segments(be, r, 16, 64));
        register("attentionSegments.full.1x1024", "attention", (be, r) -> segments(be, r, 1, 1024));

        register("softmaxTopK.4096x4.k2", "routing", CpuOpCases::softmaxTopK);
    }

    private static void register(String name, String family, Builder b) {
        if (CASES.put(name, new Entry(family, b)) != null) throw new IllegalStateException("duplicate op case " + name);
    }

    /** All case names, in table order. */
    public static List<String> names() {
        return List.copyOf(CASES.keySet());
    }

    /** The case names of one family ({@code matmul, elementwise, rows, attention, routing}). */
    public static List<String> names(String family) {
        List<String> out = new ArrayList<>();
        CASES.forEach((n, e) -> {
            if (e.family().equals(family)) out.add(n);
        });
        if (out.isEmpty()) throw new IllegalArgumentException("no op family '" + family + "'");
        return out;
    }

    /** Builds one case (allocates and fills its inputs). */
    public static OpCase create(String name, CpuBackend be, long rotateBytes) {
        Entry e = CASES.get(name);
        if (e == null) throw new IllegalArgumentException("unknown op case '" + name + "' (known: " + String.join(", ", CASES.keySet()) + ")");
        return e.builder().build(be, rotateBytes);
    }

    static String familyOf(String name) {
        return CASES.get(name).family();
    }

    // ---------------------------------------------------------------- matmul

    private static void gemv(DType dt, int m, int k) {
        String name = "gemv." + dt.name().toLowerCase() + "." + m + "x" + k;
        register(name, "matmul", (be, rotate) -> {
            long setBytes = (long) m * k * dt.byteSize() + 4L * k + 4L * m;
            Arena arena = Arena.ofShared();
            Inputs in = new Inputs(arena, name.hashCode());
            int sets = Inputs.rotation(setBytes, rotate, 64);
            Tensor[] w = new Tensor[sets], x = new Tensor[sets], out = new Tensor[sets];
            for (int s = 0; s < sets; s++) {
                w[s] = in.random(dt, 0.05f, m, k);      // [m, k]
                x[s] = in.f32(1, k);                    // [1, k]
                out[s] = in.zeros(1, m);                // [1, m]
            }
            var info = new OpCase.Info(name, "matmul", "matmul", "x[1," + k + "] . w[" + m + "," + k + "]^T " + dt, Bound.MEMORY,
                    setBytes, 2.0 * m * k);
            return new OpCase(info, arena, sets, s -> {
                be.matmul(x[s], w[s], null, out[s]);
                return out[s].getFloat(m - 1);
            });
        });
    }

    private static void gemm(DType dt, int n, int m, int k) {
        String name = "gemm." + dt.name().toLowerCase() + ".n" + n + "." + m + "x" + k;
        register(name, "matmul", (be, rotate) -> {
            long setBytes = (long) m * k * dt.byteSize() + 4L * n * k + 4L * n * m;
            Arena arena = Arena.ofShared();
            Inputs in = new Inputs(arena, name.hashCode());
            int sets = Inputs.rotation(setBytes, rotate, 3);
            Tensor[] w = new Tensor[sets], x = new Tensor[sets], out = new Tensor[sets];
            for (int s = 0; s < sets; s++) {
                w[s] = in.random(dt, 0.05f, m, k);      // [m, k]
                x[s] = in.f32(n, k);                    // [n, k]
                out[s] = in.zeros(n, m);                // [n, m]
            }
            var info = new OpCase.Info(name, "matmul", "matmul", "x[" + n + "," + k + "] . w[" + m + "," + k + "]^T " + dt, Bound.COMPUTE,
                    setBytes, 2.0 * n * m * k);
            return new OpCase(info, arena, sets, s -> {
                be.matmul(x[s], w[s], null, out[s]);
                return out[s].getFloat((long) n * m - 1);
            });
        });
    }

    /** MoE router logits: 256 tokens against 4 expert rows (a GEMM with a single 16-row tile). */
    private static OpCase routerLogits(CpuBackend be, long rotate) {
        int n = 256, m = 4, k = 3584;
        long setBytes = 4L * n * k + 2L * m * k + 4L * n * m;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 11);
        int sets = Inputs.rotation(setBytes, rotate, 64);
        Tensor gate = in.random(DType.BF16, 0.05f, m, k);
        Tensor[] x = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            x[s] = in.f32(n, k);
            out[s] = in.zeros(n, m);
        }
        var info = new OpCase.Info("matmul.router.n256.4x3584", "routing", "matmul", "x[256,3584] . gate[4,3584]^T BF16", Bound.MEMORY,
                setBytes, 2.0 * n * m * k);
        return new OpCase(info, arena, sets, s -> {
            be.matmul(x[s], gate, null, out[s]);
            return out[s].getFloat((long) n * m - 1);
        });
    }

    // ---------------------------------------------------------------- element-wise

    private static OpCase rmsNorm(CpuBackend be, long rotate, int rows, int dim) {
        long setBytes = 8L * rows * dim;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 21);
        int sets = Inputs.rotation(setBytes, rotate, 256);
        Tensor w = in.f32(dim);
        Tensor[] x = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            x[s] = in.f32(rows, dim);
            out[s] = in.zeros(rows, dim);
        }
        var info = new OpCase.Info("rmsNorm." + rows + "x" + dim, "elementwise", "rmsNorm", "[" + rows + "," + dim + "]", Bound.MEMORY,
                setBytes + 4L * dim, 4.0 * rows * dim);
        return new OpCase(info, arena, sets, s -> {
            be.rmsNorm(x[s], w, 1e-6f, out[s]);
            return out[s].getFloat((long) rows * dim - 1);
        });
    }

    private static OpCase siluMul(CpuBackend be, long rotate, int rows, int d) {
        long setBytes = 12L * rows * d;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 22);
        int sets = Inputs.rotation(setBytes, rotate, 256);
        Tensor[] g = new Tensor[sets], u = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            g[s] = in.f32(rows, d);
            u[s] = in.f32(rows, d);
            out[s] = in.zeros(rows, d);
        }
        var info = new OpCase.Info("siluMul." + rows + "x" + d, "elementwise", "siluMul", "[" + rows + "," + d + "]", Bound.MEMORY,
                setBytes, 4.0 * rows * d);
        return new OpCase(info, arena, sets, s -> {
            be.siluMul(g[s], u[s], out[s]);
            return out[s].getFloat((long) rows * d - 1);
        });
    }

    private static OpCase gelu(CpuBackend be, long rotate, int rows, int d) {
        long setBytes = 8L * rows * d;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 23);
        int sets = Inputs.rotation(setBytes, rotate, 256);
        Tensor[] x = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            x[s] = in.random(DType.F32, 4f, rows, d);
            out[s] = in.zeros(rows, d);
        }
        var info = new OpCase.Info("gelu." + rows + "x" + d, "elementwise", "gelu", "[" + rows + "," + d + "] (merger/synergy head width)",
                Bound.MEMORY, setBytes, 0);
        return new OpCase(info, arena, sets, s -> {
            be.gelu(x[s], out[s]);
            return out[s].getFloat((long) rows * d - 1);
        });
    }

    private static OpCase add(CpuBackend be, long rotate, int rows, int d) {
        long setBytes = 12L * rows * d;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 24);
        int sets = Inputs.rotation(setBytes, rotate, 256);
        Tensor[] a = new Tensor[sets], b = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            a[s] = in.f32(rows, d);
            b[s] = in.f32(rows, d);
            out[s] = in.zeros(rows, d);
        }
        var info = new OpCase.Info("add." + rows + "x" + d, "elementwise", "add", "[" + rows + "," + d + "]", Bound.MEMORY, setBytes,
                (double) rows * d);
        return new OpCase(info, arena, sets, s -> {
            be.add(a[s], b[s], out[s]);
            return out[s].getFloat((long) rows * d - 1);
        });
    }

    // ---------------------------------------------------------------- row movement

    private static OpCase embedding(CpuBackend be, long rotate) {
        int vocab = 32768, d = 3584, n = 64;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 31);
        Tensor table = in.random(DType.BF16, 0.05f, vocab, d);   // [vocab, d], 235 MB: larger than one cache's worth
        int sets = 64;
        int[][] ids = new int[sets][];
        Tensor[] out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            ids[s] = in.ids(n, vocab);
            out[s] = in.zeros(n, d);
        }
        var info = new OpCase.Info("embedding.bf16.64of32768x3584", "rows", "embedding", "64 ids of table[32768,3584] BF16 -> F32",
                Bound.MEMORY, (double) n * d * (2 + 4), 0);
        return new OpCase(info, arena, sets, s -> {
            be.embedding(table, ids[s], out[s]);
            return out[s].getFloat((long) n * d - 1);
        });
    }

    /** MoE permutation of 256 tokens, top-2: 512 row copies in expert order. */
    private static OpCase gatherRows(CpuBackend be, long rotate) {
        int tokens = 256, rows = 512, d = 3584;
        long setBytes = 4L * d * (tokens + rows);
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 32);
        int sets = Inputs.rotation(setBytes, rotate, 64);
        Tensor[] src = new Tensor[sets], out = new Tensor[sets];
        int[][] index = new int[sets][];
        for (int s = 0; s < sets; s++) {
            src[s] = in.f32(tokens, d);
            out[s] = in.zeros(rows, d);
            index[s] = in.ids(rows, tokens);
        }
        var info = new OpCase.Info("gatherRows.512of256x3584", "rows", "gatherRows", "512 rows of [256,3584] (MoE permute, 256 tokens top-2)",
                Bound.MEMORY, 2.0 * 4 * rows * d, 0);
        return new OpCase(info, arena, sets, s -> {
            be.gatherRows(src[s], index[s], out[s]);
            return out[s].getFloat((long) rows * d - 1);
        });
    }

    /** MoE weighted combine of 256 tokens, top-2: out[token] += w * expertOut[row]. */
    private static OpCase scatterAddScaled(CpuBackend be, long rotate) {
        int tokens = 256, rows = 512, d = 3584;
        long setBytes = 4L * d * (tokens + rows);
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 33);
        int sets = Inputs.rotation(setBytes, rotate, 64);
        Tensor[] src = new Tensor[sets], out = new Tensor[sets];
        int[][] index = new int[sets][];
        float[][] scale = new float[sets][];
        for (int s = 0; s < sets; s++) {
            src[s] = in.f32(rows, d);
            out[s] = in.zeros(tokens, d);
            index[s] = in.ids(rows, tokens);
            scale[s] = new float[rows];
            for (int i = 0; i < rows; i++) scale[s][i] = 0.5f;
        }
        var info = new OpCase.Info("scatterAddScaled.512to256x3584", "rows", "scatterAddScaled",
                "512 rows into [256,3584] (MoE combine, 256 tokens top-2)", Bound.MEMORY, 3.0 * 4 * rows * d, 2.0 * rows * d);
        return new OpCase(info, arena, sets, s -> {
            be.scatterAddScaled(src[s], index[s], scale[s], out[s]);
            return out[s].getFloat((long) tokens * d - 1);
        });
    }

    /** Host-side grouping of 4096 tokens x top-2 by expert (counting sort, stable by token). */
    private static OpCase permutation(CpuBackend be, long rotate) {
        int n = 4096, k = 2, experts = 4;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 34);
        int sets = 16;
        int[][] ids = new int[sets][];
        float[][] w = new float[sets][];
        for (int s = 0; s < sets; s++) {
            int[] first = in.ids(n, experts);
            ids[s] = new int[n * k];
            w[s] = new float[n * k];
            for (int t = 0; t < n; t++) {
                ids[s][t * k] = first[t];
                ids[s][t * k + 1] = (first[t] + 1) % experts;
                w[s][t * k] = 0.6f;
                w[s][t * k + 1] = 0.4f;
            }
        }
        var info = new OpCase.Info("permutation.4096x2of4", "rows", "TokenPermutation.of", "4096 tokens x top-2 of 4 experts (host)",
                Bound.MEMORY, 16.0 * n * k, 0);
        return new OpCase(info, arena, sets, s -> {
            TokenPermutation p = TokenPermutation.of(n, k, experts, ids[s], w[s]);
            return p.tokens()[n * k - 1];
        });
    }

    // ---------------------------------------------------------------- attention

    private static OpCase rope(CpuBackend be, long rotate) {
        int n = 256, heads = 28, hd = 128;
        long setBytes = 8L * n * heads * hd + 8L * n * hd;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 41);
        int sets = Inputs.rotation(setBytes, rotate, 64);
        Tensor[] x = new Tensor[sets], cos = new Tensor[sets], sin = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            x[s] = in.f32(n, (long) heads * hd);
            cos[s] = in.f32(n, hd);
            sin[s] = in.f32(n, hd);
        }
        var info = new OpCase.Info("rope.256x28x128", "attention", "rope", "q[256, 28x128] in place", Bound.MEMORY, setBytes,
                3.0 * n * heads * hd);
        return new OpCase(info, arena, sets, s -> {
            be.rope(x[s], heads, cos[s], sin[s]);
            return x[s].getFloat((long) n * heads * hd - 1);
        });
    }

    /** Decoder attention, 28 heads / 4 KV heads of 128: {@code n} queries at positions {@code start..}. */
    private static OpCase causal(CpuBackend be, long rotate, int n, int start) {
        int heads = 28, kvh = 4, hd = 128, ctx = start + n;
        long kvBytes = 2L * 4 * ctx * kvh * hd;
        long setBytes = kvBytes + 8L * n * heads * hd;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 42 + n);
        int sets = Inputs.rotation(setBytes, rotate, n == 1 ? 64 : 4);
        Tensor[] q = new Tensor[sets], k = new Tensor[sets], v = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            q[s] = in.f32(n, (long) heads * hd);
            k[s] = in.f32(ctx, (long) kvh * hd);
            v[s] = in.f32(ctx, (long) kvh * hd);
            out[s] = in.zeros(n, (long) heads * hd);
        }
        double pairs = n == 1 ? ctx : (double) n * (n + 1) / 2 + (double) n * start;   // (query, key) pairs
        String name = n == 1 ? "attentionCausal.decode.ctx" + ctx : "attentionCausal.prefill.n" + n;
        var info = new OpCase.Info(name, "attention", "attentionCausal",
                n + " queries, " + ctx + " keys, 28 heads / 4 kv x 128", n == 1 ? Bound.MEMORY : Bound.COMPUTE, setBytes, 4.0 * heads * hd * pairs);
        return new OpCase(info, arena, sets, s -> {
            be.attentionCausal(q[s], k[s], v[s], out[s], heads, kvh, start);
            return out[s].getFloat((long) n * heads * hd - 1);
        });
    }

    /** Vision attention, 16 heads of 80, {@code segs} segments of {@code len} patches. */
    private static OpCase segments(CpuBackend be, long rotate, int segs, int len) {
        int heads = 16, hd = 80, n = segs * len;
        long setBytes = 16L * n * heads * hd;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 43 + segs);
        int sets = Inputs.rotation(setBytes, rotate, 4);
        Tensor[] q = new Tensor[sets], k = new Tensor[sets], v = new Tensor[sets], out = new Tensor[sets];
        for (int s = 0; s < sets; s++) {
            q[s] = in.f32(n, (long) heads * hd);
            k[s] = in.f32(n, (long) heads * hd);
            v[s] = in.f32(n, (long) heads * hd);
            out[s] = in.zeros(n, (long) heads * hd);
        }
        int[] cu = new int[segs + 1];
        for (int i = 0; i <= segs; i++) cu[i] = i * len;
        String name = segs == 1 ? "attentionSegments.full.1x" + len : "attentionSegments.window." + segs + "x" + len;
        var info = new OpCase.Info(name, "attention", "attentionSegments", segs + " segments x " + len + " patches, 16 heads x 80",
                Bound.COMPUTE, setBytes, 4.0 * heads * hd * segs * (double) len * len);
        return new OpCase(info, arena, sets, s -> {
            be.attentionSegments(q[s], k[s], v[s], out[s], heads, cu);
            return out[s].getFloat((long) n * heads * hd - 1);
        });
    }

    // ---------------------------------------------------------------- routing

    private static OpCase softmaxTopK(CpuBackend be, long rotate) {
        int n = 4096, m = 4, k = 2;
        long setBytes = 4L * n * m + 8L * n * k;
        Arena arena = Arena.ofShared();
        Inputs in = new Inputs(arena, 51);
        int sets = Inputs.rotation(setBytes, rotate, 64);
        Tensor[] logits = new Tensor[sets];
        int[][] ids = new int[sets][n * k];
        float[][] w = new float[sets][n * k];
        for (int s = 0; s < sets; s++) logits[s] = in.random(DType.F32, 3f, n, m);
        var info = new OpCase.Info("softmaxTopK.4096x4.k2", "routing", "softmaxTopK", "logits[4096,4] -> top-2", Bound.MEMORY, setBytes,
                0);
        return new OpCase(info, arena, sets, s -> {
            be.softmaxTopK(logits[s], k, false, ids[s], w[s]);
            return w[s][n * k - 1] + ids[s][n * k - 1];
        });
    }
}

package ai.polyv.bench.cuda;

import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.backend.Workspace;
import ai.polyv.cuda.CudaBackend;
import ai.polyv.core.model.WindowIndex;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Times every CUDA backend op at real PolyV shapes (hidden 3584, FFN 18944, 28 heads over 4 KV heads
 * of 128, vision 16 heads of 80 over 5184 patches in windows of 64, 4 experts top-2): CUDA events
 * around each call after warm-up, the median of the runs, and the achieved GB/s or TFLOP/s with the
 * fraction of the ceilings measured in the same run ({@link GpuCeilings}: device copy, cuBLAS GEMM 8192^3 in
 * bf16 and fp32), through {@link GpuResults}. Run by {@code polyv bench kernels} ({@link GpuKernelsBench}).
 * Times include what the op does on the host per call (index uploads), as the model sees it.
 */
public final class CudaKernelBench {
    private final CudaBackend be;
    private final int runs;
    private final GpuResults sink;
    private final Random rnd = new Random(42);

    private CudaKernelBench(CudaBackend be, int runs, GpuResults sink) {
        this.be = be;
        this.runs = runs;
        this.sink = sink;
    }

    /**
     * Times every op on {@code be} ({@link CudaBackend.Precision#F32}: all ops and the fp32 GEMM;
     * {@link CudaBackend.Precision#BF16}: the bf16 GEMM and the fused PolyV paths), adding rows to {@code sink}.
     */
    public static void run(CudaBackend be, int runs, GpuResults sink) {
        if (runs < 1) throw new IllegalArgumentException("runs must be >= 1, got " + runs);
        new CudaKernelBench(be, runs, sink).all(be.precision() == CudaBackend.Precision.BF16);
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    /** Median milliseconds of {@code runs} timed calls after 5 warm-up calls. */
    private double time(Runnable op) {
        return GpuCeilings.medianMs(be.stream(), 5, runs, op);
    }

    private void memory(String op, String shape, long bytes, Runnable r) {
        sink.add(op, shape, time(r), bytes, 0, be.precision() == CudaBackend.Precision.BF16);
    }

    private void compute(String op, String shape, double flops, boolean bf16, Runnable r) {
        sink.add(op, shape, time(r), 0, flops, bf16);
    }

    private Tensor weight(DType dt, int m, int k, Arena arena) {
        MemorySegment seg = arena.allocate((long) m * k * dt.byteSize(), 64);
        for (long i = 0; i < (long) m * k; i++) {
            float v = (float) (rnd.nextGaussian() * 0.02);
            if (dt == DType.F32) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            else seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return be.weight(dt, seg, m, k);
    }

    /** A matrix of cheap deterministic values (the expert weights are too large to draw gaussians for). */
    private Tensor patternWeight(int m, int k, Arena arena) {
        MemorySegment seg = arena.allocate((long) m * k * 2, 64);
        for (long i = 0; i < (long) m * k; i++) {
            float v = (((i * 2654435761L) & 0x7ff) - 1024) * 2e-5f;
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return be.weight(DType.BF16, seg, m, k);
    }

    /**
     * The fused PolyV kernels as the model calls them (Precision.BF16): router, experts (permutation +
     * gate/up + down + combine, the routing kept on the device), vision window attention.
     */
    private void fused(Arena arena, Workspace ws, int hidden, int ffn) {
        int m = 4, k = 2;
        Tensor gate = weight(DType.BF16, m, hidden, arena);
        List<Tensor> g = new ArrayList<>(), u = new ArrayList<>(), d = new ArrayList<>();
        for (int e = 0; e < m; e++) {
            g.add(patternWeight(ffn, hidden, arena));
            u.add(patternWeight(ffn, hidden, arena));
            d.add(patternWeight(hidden, ffn, arena));
        }
        ExpertWeights experts = new ExpertWeights(g, u, d);
        for (int n : new int[] {1, 256, 4096}) {
            Tensor x = ws.f32(random(n * hidden), n, hidden), logits = ws.f32(n, m), out = ws.f32(n, hidden);
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            memory("moeRoute fused (moe_router_v2, incl. download)", n + "x" + hidden + ", 4 experts top-2",
                    (long) n * hidden * 4 + (long) m * hidden * 2 + (long) n * (m + 2 * k) * 4, () -> be.moeRoute(x, gate, k, false, logits, ids, w));
            be.moeRoute(x, gate, k, false, logits, ids, w);
            compute("moeExperts fused (permute + expert_ffn + combine)", n + " tokens, 4 experts top-2, " + hidden + "/" + ffn,
                    2.0 * n * k * 3 * hidden * ffn, true, () -> be.moeExperts(x, k, ids, w, experts, out));
        }
        WindowIndex win = WindowIndex.compute(1, 72, 72, 2, 4);          // 5184 patches, windows of 64
        int np = 5184, vh = 16, vhd = 80;
        Tensor vq = ws.f32(random(np * vh * vhd), np, (long) vh * vhd), vo = ws.f32(np, (long) vh * vhd);
        compute("attentionSegments (window_attention_v2, incl. bf16 casts)", np + " patches, 16 x 80, windows of 64", 4.0 * vh * vhd * np * 64, true,
                () -> be.attentionSegments(vq, vq, vq, vo, vh, win.cuWindows()));
        System.err.println("bf16 backend paths: " + be.pathCounts());
    }

    private void all(boolean bf16) {
        int hidden = 3584, ffn = 18944;
        String tag = bf16 ? " (bf16 weights)" : "";
        try (Arena arena = Arena.ofShared(); Workspace ws = be.workspace()) {
            Tensor wUp = weight(bf16 ? DType.BF16 : DType.F32, ffn, hidden, arena);
            for (int n : new int[] {1, 256, 4096}) {
                Tensor x = ws.f32(random(n * hidden), n, hidden), y = ws.f32(n, ffn);
                compute("matmul" + tag, n + "x" + hidden + " . [" + ffn + "x" + hidden + "]^T", 2.0 * n * hidden * ffn, bf16,
                        () -> be.matmul(x, wUp, null, y));
            }
            if (bf16) {          // the other ops do not depend on the weight precision, but these take the fused kernels
                fused(arena, ws, hidden, ffn);
                return;
            }
            int n = 4096;
            Tensor x = ws.f32(random(n * hidden), n, hidden), o = ws.f32(n, hidden), w = ws.f32(random(hidden), hidden);
            memory("rmsNorm", n + "x" + hidden, 2L * n * hidden * 4, () -> be.rmsNorm(x, w, 1e-6f, o));
            memory("add", n + "x" + hidden, 3L * n * hidden * 4, () -> be.add(x, o, o));
            Tensor g = ws.f32(random(n * ffn), n, ffn), u = ws.f32(random(n * ffn), n, ffn), gu = ws.f32(n, ffn);
            memory("siluMul", n + "x" + ffn, 3L * n * ffn * 4, () -> be.siluMul(g, u, gu));
            memory("gelu", n + "x" + ffn, 2L * n * ffn * 4, () -> be.gelu(g, gu));
            memory("fill", n + "x" + ffn, (long) n * ffn * 4, () -> be.fill(gu, 0f));
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = (int) ((i * 2654435761L) % n);
            memory("gatherRows", n + "x" + hidden, 2L * n * hidden * 4, () -> be.gatherRows(x, perm, o));
            memory("scatterRows", n + "x" + hidden, 2L * n * hidden * 4, () -> be.scatterRows(x, perm, o));
            float[] scale = random(n);
            memory("scatterAddScaled", n + "x" + hidden, 3L * n * hidden * 4, () -> be.scatterAddScaled(x, perm, scale, o));
            Tensor table = weight(DType.F32, 8192, hidden, arena);
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = rnd.nextInt(8192);
            memory("embedding", n + " ids x " + hidden, 2L * n * hidden * 4, () -> be.embedding(table, ids, o));
            int heads = 28, kvh = 4, hd = 128;
            Tensor q = ws.f32(random(n * heads * hd), n, (long) heads * hd), cos = ws.f32(random(n * hd), n, hd), sin = ws.f32(random(n * hd), n, hd);
            memory("rope", n + "x" + heads + "x" + hd, 2L * n * heads * hd * 4 + 2L * n * hd * 4, () -> be.rope(q, heads, cos, sin));
            Tensor kc = ws.f32(random(n * kvh * hd), n, (long) kvh * hd), vc = ws.f32(random(n * kvh * hd), n, (long) kvh * hd);
            Tensor q1 = q.rows(0, 1), o1 = ws.f32(1, (long) heads * hd);
            memory("attentionCausal decode", "ctx " + n + ", 28 heads / 4 kv x 128", 2L * n * kvh * hd * 4, () -> be.attentionCausal(q1, kc, vc, o1, heads, kvh, n - 1));
            int p = 512;
            Tensor qp = q.rows(0, p), op = ws.f32(p, (long) heads * hd);
            compute("attentionCausal prefill", p + " tokens, 28 heads / 4 kv x 128", 4.0 * heads * hd * p * (p + 1) / 2, false,
                    () -> be.attentionCausal(qp, kc, vc, op, heads, kvh, 0));
            WindowIndex win = WindowIndex.compute(1, 72, 72, 2, 4);          // 5184 patches, windows of 64
            int np = 5184, vh = 16, vhd = 80;
            Tensor vq = ws.f32(random(np * vh * vhd), np, (long) vh * vhd), vo = ws.f32(np, (long) vh * vhd);
            compute("attentionSegments (simple)", np + " patches, 16 x 80, windows of 64", 4.0 * vh * vhd * np * 64, false,
                    () -> be.attentionSegments(vq, vq, vq, vo, vh, win.cuWindows()));
            Tensor logits = ws.f32(random(n * 4), n, 4);
            int[] tid = new int[n * 2];
            float[] tw = new float[n * 2];
            memory("softmaxTopK (incl. download)", n + "x4, top-2", (long) n * 4 * 4 + (long) n * 2 * 8, () -> be.softmaxTopK(logits, 2, true, tid, tw));
            Tensor vocab = ws.f32(random(152064), 1, 152064);
            memory("argmax (incl. download)", "1x152064", 152064L * 4, () -> be.argmax(vocab));
        }
    }
}

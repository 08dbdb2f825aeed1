package ai.polyv.bench.cuda;

import ai.polyv.cuda.kernels.DeviceArena;
import ai.polyv.cuda.kernels.DeviceTensor;
import ai.polyv.cuda.kernels.ExpertFfnKernel;
import ai.polyv.cuda.kernels.KernelLookup;
import ai.polyv.cuda.kernels.MoeRouterKernel;
import ai.polyv.cuda.kernels.TokenPermutationKernel;
import ai.polyv.cuda.kernels.WindowAttentionKernel;

import static ai.polyv.loader.safetensors.DType.BF16;
import static ai.polyv.loader.safetensors.DType.F32;
import static ai.polyv.loader.safetensors.DType.I32;

import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.KernelLibrary;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.Set;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Times the PolyV CUDA kernels at the real PolyV shapes (hidden 3584, ffn 18944, 4 experts, top-2; ViT
 * 16 heads x 80) with CUDA events: warm-up, then the median of many runs, activations rotated over
 * {@link #ROTATE} copies so no run reads the previous run's inputs from L2. Next to every time it prints
 * the roofline floor (bytes / measured copy bandwidth, FLOPs / measured bf16 GEMM rate, both measured in the
 * same run by {@code GpuCeilings}) and the fraction of it reached (docs/style.md 7), with docs/gpu.md's PyTorch median
 * where one exists: rows go to a {@link GpuResults}. Run by {@code polyv bench kernels [--only router,...]}.
 * Weights are filled on the device with a constant (timing does not depend on their values).
 */
public final class KernelBench {
    static final int ROTATE = 4;
    static final int HIDDEN = 3584, FFN = 18944, EXPERTS = 4, TOP_K = 2, VIT_HEADS = 16, VIT_HD = 80;

    /** The groups {@code --only} can name. */
    public static final List<String> GROUPS = List.of("router", "permutation", "experts", "attention");

    private final int warmup, reps;
    private final GpuResults sink;
    private final CUstream stream = new CUstream();

    KernelBench(int warmup, int reps, GpuResults sink) {
        if (warmup < 0 || reps < 1) throw new IllegalArgumentException("KernelBench: warmup must be >= 0 and reps >= 1, got " + warmup + ", " + reps);
        this.warmup = warmup;
        this.reps = reps;
        this.sink = sink;
    }

    /** Median milliseconds of {@code reps} runs of {@code body(rep)} after {@code warmup} runs. */
    double time(java.util.function.IntConsumer body) {
        for (int i = 0; i < warmup; i++) body.accept(i);
        CUevent start = new CUevent(), stop = new CUevent();
        CudaException.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        CudaException.check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
        try {
            float[] ms = new float[reps];
            float[] one = new float[1];
            for (int i = 0; i < reps; i++) {
                CudaException.check(JCudaDriver.cuEventRecord(start, stream), "cuEventRecord");
                body.accept(i);
                CudaException.check(JCudaDriver.cuEventRecord(stop, stream), "cuEventRecord");
                CudaException.check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
                CudaException.check(JCudaDriver.cuEventElapsedTime(one, start, stop), "cuEventElapsedTime");
                ms[i] = one[0];
            }
            Arrays.sort(ms);
            return ms[reps / 2];
        } finally {
            JCudaDriver.cuEventDestroy(start);   // unchecked: a failure here must not hide the one that got us here
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    void record(String kernel, String shape, double ms, double bytes, double flops) {
        sink.add(kernel, shape, ms, bytes, flops, true);
    }

    void record(String kernel, String shape, double ms, double bytes, double flops, OptionalDouble pytorchMs) {
        sink.add(kernel, shape, ms, bytes, flops, true, pytorchMs);
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static int[] topK(Random r, int tokens) {
        int[] ids = new int[tokens * TOP_K];
        for (int t = 0; t < tokens; t++) {
            Set<Integer> used = new HashSet<>();
            for (int j = 0; j < TOP_K; j++) {
                int e;
                do e = r.nextInt(EXPERTS); while (!used.add(e));
                ids[t * TOP_K + j] = e;
            }
        }
        return ids;
    }

    void router(KernelLookup module, int tokens) {
        MoeRouterKernel k = new MoeRouterKernel(module);
        Random r = new Random(1);
        try (DeviceArena a = new DeviceArena()) {
            DeviceTensor[] x = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) x[i] = a.uploadBf16("x", gaussian(r, tokens * HIDDEN), tokens, HIDDEN);
            DeviceTensor gate = a.uploadBf16("gate", gaussian(r, EXPERTS * HIDDEN), EXPERTS, HIDDEN);
            DeviceTensor logits = a.alloc("logits", F32, tokens, EXPERTS), ids = a.alloc("ids", I32, tokens, TOP_K);
            DeviceTensor w = a.alloc("w", F32, tokens, TOP_K), partials = a.alloc("partials", F32, MoeRouterKernel.maxPartialBlocks(), 2, EXPERTS);
            DeviceTensor counter = a.upload("counter", new int[] {0}, 1), stats = a.alloc("stats", F32, 2, EXPERTS);
            double ms = time(i -> k.launch(stream, x[i % ROTATE], gate, logits, ids, w, partials, counter, stats, TOP_K, false));
            double bytes = 2.0 * tokens * HIDDEN + 2.0 * EXPERTS * HIDDEN + 4.0 * tokens * (EXPERTS + 2 * TOP_K);
            record("moe_router_v2 (bf16, M=4, k=2)", tokens + " tokens", ms, bytes, 2.0 * tokens * EXPERTS * HIDDEN,
                    GpuResults.PytorchReference.ROUTER.at(tokens));
        }
    }

    void permutation(KernelLookup module, int tokens) {
        TokenPermutationKernel k = new TokenPermutationKernel(module);
        Random r = new Random(2);
        int n = tokens * TOP_K;
        try (DeviceArena a = new DeviceArena()) {
            DeviceTensor[] ids = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) ids[i] = a.upload("ids", topK(r, tokens), tokens, TOP_K);
            float[] wv = new float[n];
            Arrays.fill(wv, 0.5f);
            DeviceTensor w = a.upload("w", wv, tokens, TOP_K), off = a.alloc("offsets", I32, EXPERTS + 1);
            DeviceTensor pt = a.alloc("permToken", I32, n), pw = a.alloc("permWeight", F32, n), pos = a.alloc("pos", I32, tokens, TOP_K);
            DeviceTensor bad = a.alloc("bad", I32, 1);
            double msAlign = time(i -> k.align(stream, ids[i % ROTATE], w, off, pt, pw, pos, bad, EXPERTS));
            record("moe_align_v2", tokens + " x top-2 over 4", msAlign, 4.0 * n * 6, 0);
            DeviceTensor[] x = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) x[i] = a.alloc("x", BF16, tokens, HIDDEN);
            DeviceTensor xp = a.alloc("xPerm", BF16, n, HIDDEN);
            double ms = time(i -> k.permuteRows(stream, x[i % ROTATE], pt, xp));
            record("moe_permute_rows_v2 (bf16)", n + " rows x " + HIDDEN, ms, 2.0 * 2 * n * HIDDEN, 0);
            record("permutation total (align + permute_rows)", tokens + " tokens", msAlign + ms, 4.0 * n * 6 + 2.0 * 2 * n * HIDDEN, 0,
                    GpuResults.PytorchReference.PERMUTE.at(tokens));
            DeviceTensor[] y = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) {
                y[i] = a.alloc("y", F32, n, HIDDEN);
                CudaException.check(JCudaDriver.cuMemsetD32(y[i].ptr(), Float.floatToIntBits(0.25f), (long) n * HIDDEN), "cuMemsetD32");
            }
            DeviceTensor out = a.alloc("out", F32, tokens, HIDDEN);
            ms = time(i -> k.combine(stream, y[i % ROTATE], pos, null, out));
            record("moe_combine_v2_f32", tokens + " tokens x " + HIDDEN, ms, 4.0 * (n + tokens) * HIDDEN, 2.0 * n * HIDDEN,
                    GpuResults.PytorchReference.COMBINE.at(tokens));
        }
    }

    void experts(KernelLookup permModule, KernelLookup module, DeviceTensor gw, DeviceTensor uw, DeviceTensor dw, int tokens) {
        ExpertFfnKernel k = new ExpertFfnKernel(module);
        TokenPermutationKernel perm = new TokenPermutationKernel(permModule);
        Random r = new Random(3);
        int n = tokens * TOP_K;
        try (DeviceArena a = new DeviceArena()) {
            int[] idsHost = topK(r, tokens);
            DeviceTensor ids = a.upload("ids", idsHost, tokens, TOP_K), w = a.alloc("w", F32, tokens, TOP_K);
            CudaException.check(JCudaDriver.cuMemsetD32(w.ptr(), Float.floatToIntBits(0.5f), n), "cuMemsetD32");
            DeviceTensor off = a.alloc("offsets", I32, EXPERTS + 1), pt = a.alloc("permToken", I32, n), pw = a.alloc("permWeight", F32, n);
            DeviceTensor pos = a.alloc("pos", I32, tokens, TOP_K), bad = a.alloc("bad", I32, 1);
            perm.align(stream, ids, w, off, pt, pw, pos, bad, EXPERTS);
            int active = 0;
            int[] count = new int[EXPERTS];
            for (int e : idsHost) count[e]++;
            for (int c : count) if (c > 0) active++;
            DeviceTensor[] x = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) x[i] = a.uploadBf16("x", gaussian(r, tokens * HIDDEN), tokens, HIDDEN);
            DeviceTensor h = a.alloc("h", BF16, n, FFN), y = a.alloc("y", F32, n, HIDDEN);
            String shape = tokens + " tok, " + active + " experts active";
            double matrix = 2.0 * FFN * HIDDEN;
            double ms1 = time(i -> k.gateUp(stream, x[i % ROTATE], pt, gw, uw, off, h, null));
            ExpertFfnKernel.Path path = ExpertFfnKernel.TABLE.pick(n).path();
            record("expert_gate_up_" + path.name().toLowerCase() + "_v2", shape, ms1,
                    2 * active * matrix + 2.0 * n * (HIDDEN + FFN), 2.0 * n * 2 * FFN * HIDDEN);
            double ms2 = time(i -> k.down(stream, h, dw, off, pw, y, null));
            record("expert_down_" + path.name().toLowerCase() + "_v2", shape, ms2,
                    active * matrix + 2.0 * n * FFN + 4.0 * n * HIDDEN, 2.0 * n * HIDDEN * FFN);
            record("experts total (gate_up + down)", shape, ms1 + ms2, 3 * active * matrix, 2.0 * n * 3 * FFN * HIDDEN,
                    GpuResults.PytorchReference.EXPERTS.at(tokens));
        }
    }

    void attention(KernelLookup module, int[] cu, String label) {
        WindowAttentionKernel k = new WindowAttentionKernel(module);
        Random r = new Random(4);
        int tokens = cu[cu.length - 1], width = VIT_HEADS * VIT_HD;
        try (DeviceArena a = new DeviceArena()) {
            DeviceTensor[][] qkv = new DeviceTensor[ROTATE][3];
            for (int i = 0; i < ROTATE; i++) {
                for (int j = 0; j < 3; j++) qkv[i][j] = a.uploadBf16("qkv", gaussian(r, tokens * width), tokens, width);
            }
            DeviceTensor dcu = a.upload("cu_seqlens", cu, cu.length), out = a.alloc("out", BF16, tokens, width);
            double ms = time(i -> k.launch(stream, qkv[i % ROTATE][0], qkv[i % ROTATE][1], qkv[i % ROTATE][2], cu, dcu, VIT_HEADS, out));
            double flops = 0;
            for (int s = 0; s + 1 < cu.length; s++) flops += 4.0 * (cu[s + 1] - cu[s]) * (double) (cu[s + 1] - cu[s]) * VIT_HD * VIT_HEADS;
            record("window_attention_v2_hd80 (bf16)", label, ms, 4.0 * 2 * tokens * width, flops,
                    cu.length > 3 ? GpuResults.PytorchReference.WINDOW_ATTENTION_5184.at(tokens) : OptionalDouble.empty());
        }
    }

    /**
     * Times the kernel groups in {@code only} (null or empty: all of {@link #GROUPS}) from {@code library}, the
     * median of {@code reps} runs after {@code warmup}, adding rows to {@code sink}. Uses the context current on
     * this thread (the CUDA backend's), on the default stream.
     */
    public static void run(KernelLibrary library, int warmup, int reps, List<String> only, GpuResults sink) {
        List<String> groups = only == null || only.isEmpty() ? GROUPS : only;
        for (String g : groups) {
            if (!GROUPS.contains(g)) throw new IllegalArgumentException("KernelBench: unknown group '" + g + "' (expected one of " + GROUPS + ")");
        }
        // JCuda's exceptions stay off (CudaContext's setting, process-wide): this tool checks its own driver calls'
        // return codes (CudaException.check), and the memory pool needs CUDA_ERROR_OUT_OF_MEMORY as a code to free
        // its cache and retry, which a thrown jcuda.CudaException would bypass.
        run(new KernelBench(warmup, reps, sink), library, groups);
    }

    private static void run(KernelBench b, KernelLibrary library, List<String> groups) {
        KernelLookup router = KernelLookup.of(library, "moe_router"), perm = KernelLookup.of(library, "token_permutation");
        KernelLookup experts = KernelLookup.of(library, "expert_ffn"), attn = KernelLookup.of(library, "window_attention");
        if (groups.contains("router")) for (int t : new int[] {1, 256, 4096}) b.router(router, t);
        if (groups.contains("permutation")) for (int t : new int[] {256, 4096}) b.permutation(perm, t);
        if (groups.contains("experts")) {
            try (DeviceArena wa = new DeviceArena()) {
                DeviceTensor gw = wa.alloc("gate_w", BF16, EXPERTS, FFN, HIDDEN), uw = wa.alloc("up_w", BF16, EXPERTS, FFN, HIDDEN);
                DeviceTensor dw = wa.alloc("down_w", BF16, EXPERTS, HIDDEN, FFN);
                short bf = ai.polyv.core.cpu.WeightFormat.toBf16(0.01f);
                for (DeviceTensor t : new DeviceTensor[] {gw, uw, dw}) CudaException.check(JCudaDriver.cuMemsetD16(t.ptr(), bf, t.numel()), "cuMemsetD16");
                for (int t : new int[] {1, 8, 256, 4096}) b.experts(perm, experts, gw, uw, dw, t);
            }
        }
        if (groups.contains("attention")) {
            int[] windows = new int[5184 / 64 + 1];
            for (int s = 0; s < windows.length; s++) windows[s] = s * 64;
            b.attention(attn, windows, "5184 patches, windows of 64");
            b.attention(attn, new int[] {0, 2592, 5184}, "2 full frames of 2592");
        }
    }
}

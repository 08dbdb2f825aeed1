package ai.polyv.runtime.cuda.kernels;

import static ai.polyv.runtime.cuda.kernels.DeviceDType.BF16;
import static ai.polyv.runtime.cuda.kernels.DeviceDType.F32;
import static ai.polyv.runtime.cuda.kernels.DeviceDType.I32;

import ai.polyv.runtime.cuda.CudaContext;
import ai.polyv.runtime.cuda.CudaProbe;
import ai.polyv.runtime.cuda.KernelLibrary;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Times the PolyV CUDA kernels at the real PolyV shapes (hidden 3584, ffn 18944, 4 experts, top-2; ViT
 * 16 heads x 80) with CUDA events: warm-up, then the median of many runs, activations rotated over
 * {@link #ROTATE} copies so no run reads the previous run's inputs from L2. Next to every time it prints
 * the roofline floor (bytes / measured copy bandwidth, FLOPs / measured bf16 tensor-core rate) and the
 * fraction of it reached (STYLE.md 7). Ceilings default to GPU.md's measurements on the lent H100
 * (3.0 TB/s, 686 TFLOP/s); override with {@code -Dpolyv.bench.gbps=...} / {@code -Dpolyv.bench.tflops=...}.
 *
 * <p>Run on the GPU machine: {@code java -cp runtime.jar:lib/* [-Dpolyv.cuda.dir=<fatbins>]
 * ai.polyv.runtime.cuda.kernels.KernelBench [--warmup 10] [--reps 50] [--only expert]}.
 * Weights are filled on the device with a constant (timing does not depend on their values).
 */
public final class KernelBench {
    static final int ROTATE = 4;
    static final int HIDDEN = 3584, FFN = 18944, EXPERTS = 4, TOP_K = 2, VIT_HEADS = 16, VIT_HD = 80;

    private final int warmup, reps;
    private final double bytesPerSec, flopsPerSec;
    private final CUstream stream = new CUstream();

    KernelBench(int warmup, int reps) {
        this.warmup = warmup;
        this.reps = reps;
        this.bytesPerSec = Double.parseDouble(System.getProperty("polyv.bench.gbps", "3000")) * 1e9;
        this.flopsPerSec = Double.parseDouble(System.getProperty("polyv.bench.tflops", "686")) * 1e12;
    }

    /** Median milliseconds of {@code reps} runs of {@code body(rep)} after {@code warmup} runs. */
    double time(java.util.function.IntConsumer body) {
        for (int i = 0; i < warmup; i++) body.accept(i);
        CUevent start = new CUevent(), stop = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(stop, 0);
        try {
            float[] ms = new float[reps];
            float[] one = new float[1];
            for (int i = 0; i < reps; i++) {
                JCudaDriver.cuEventRecord(start, stream);
                body.accept(i);
                JCudaDriver.cuEventRecord(stop, stream);
                JCudaDriver.cuEventSynchronize(stop);
                JCudaDriver.cuEventElapsedTime(one, start, stop);
                ms[i] = one[0];
            }
            Arrays.sort(ms);
            return ms[reps / 2];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    void record(String kernel, String shape, double ms, double bytes, double flops) {
        double floorMs = Math.max(bytes / bytesPerSec, flops / flopsPerSec) * 1e3;
        System.out.printf("%-34s %-34s %9.4f ms  %8.1f GB/s  %7.1f TFLOP/s  floor %8.4f ms  %5.1f%% of roofline%n", kernel, shape, ms,
                bytes / ms / 1e6, flops / ms / 1e9, floorMs, 100 * floorMs / ms);
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
            record("moe_router_v2 (bf16, M=4, k=2)", tokens + " tokens", ms, bytes, 2.0 * tokens * EXPERTS * HIDDEN);
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
            double ms = time(i -> k.align(stream, ids[i % ROTATE], w, off, pt, pw, pos, bad, EXPERTS));
            record("moe_align_v2", tokens + " x top-2 over 4", ms, 4.0 * n * 6, 0);
            DeviceTensor[] x = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) x[i] = a.alloc("x", BF16, tokens, HIDDEN);
            DeviceTensor xp = a.alloc("xPerm", BF16, n, HIDDEN);
            ms = time(i -> k.permuteRows(stream, x[i % ROTATE], pt, xp));
            record("moe_permute_rows_v2 (bf16)", n + " rows x " + HIDDEN, ms, 2.0 * 2 * n * HIDDEN, 0);
            DeviceTensor[] y = new DeviceTensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) {
                y[i] = a.alloc("y", F32, n, HIDDEN);
                JCudaDriver.cuMemsetD32(y[i].ptr(), Float.floatToIntBits(0.25f), (long) n * HIDDEN);
            }
            DeviceTensor out = a.alloc("out", F32, tokens, HIDDEN);
            ms = time(i -> k.combine(stream, y[i % ROTATE], pos, null, out));
            record("moe_combine_v2_f32", tokens + " tokens x " + HIDDEN, ms, 4.0 * (n + tokens) * HIDDEN, 2.0 * n * HIDDEN);
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
            JCudaDriver.cuMemsetD32(w.ptr(), Float.floatToIntBits(0.5f), n);
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
            record("experts total (gate_up + down)", shape, ms1 + ms2, 3 * active * matrix, 2.0 * n * 3 * FFN * HIDDEN);
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
            record("window_attention_v2_hd80 (bf16)", label, ms, 4.0 * 2 * tokens * width, flops);
        }
    }

    public static void main(String[] args) {
        int warmup = 10, reps = 50;
        String only = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (expected --warmup N, --reps N, --only NAME)");
            }
        }
        CudaProbe probe = CudaProbe.probe();
        if (!probe.available()) {
            System.err.println("KernelBench needs a CUDA device: " + probe.reason());
            System.exit(2);
        }
        try (CudaContext ctx = CudaContext.open(0); KernelLibrary library = new KernelLibrary(ctx.info())) {
            JCudaDriver.setExceptionsEnabled(true);   // this tool's own driver calls (events, memsets) throw on failure
            System.out.printf("device: %s; warm-up %d, median of %d; ceilings %.0f GB/s, %.0f TFLOP/s%n", ctx.info(), warmup, reps,
                    Double.parseDouble(System.getProperty("polyv.bench.gbps", "3000")), Double.parseDouble(System.getProperty("polyv.bench.tflops", "686")));
            run(new KernelBench(warmup, reps), library, only);
            library.origins().forEach((op, origin) -> System.out.println("module " + op + ": " + origin));
            System.out.println("""
                    PyTorch on the lent H100 (../shared/GPU.md, bf16, same shapes), the numbers to beat:
                      router softmax + top-2, 4096 tokens          0.052 ms
                      permute (argsort + gather), 4096 tokens      0.32 ms
                      experts (cuBLAS loop), 1 / 256 / 4096 tokens 0.33 / 0.77 / 5.65 ms
                      un-permute + weighted combine, 4096 tokens   0.48 ms
                      ViT window attention, 5184 patches 16 x 80   0.036 ms (SDPA)""");
        }
    }

    private static void run(KernelBench b, KernelLibrary library, String only) {
        KernelLookup router = KernelLookup.of(library, "moe_router"), perm = KernelLookup.of(library, "token_permutation");
        KernelLookup experts = KernelLookup.of(library, "expert_ffn"), attn = KernelLookup.of(library, "window_attention");
        {
            if ("router".contains(only)) for (int t : new int[] {1, 256, 4096}) b.router(router, t);
            if ("permutation".contains(only)) for (int t : new int[] {256, 4096}) b.permutation(perm, t);
            if ("expert".contains(only)) {
                try (DeviceArena wa = new DeviceArena()) {
                    DeviceTensor gw = wa.alloc("gate_w", BF16, EXPERTS, FFN, HIDDEN), uw = wa.alloc("up_w", BF16, EXPERTS, FFN, HIDDEN);
                    DeviceTensor dw = wa.alloc("down_w", BF16, EXPERTS, HIDDEN, FFN);
                    short bf = ai.polyv.runtime.cpu.WeightFormat.toBf16(0.01f);
                    for (DeviceTensor t : new DeviceTensor[] {gw, uw, dw}) JCudaDriver.cuMemsetD16(t.ptr(), bf, t.numel());
                    for (int t : new int[] {1, 8, 256, 4096}) b.experts(perm, experts, gw, uw, dw, t);
                }
            }
            if ("attention".contains(only)) {
                int[] windows = new int[5184 / 64 + 1];
                for (int s = 0; s < windows.length; s++) windows[s] = s * 64;
                b.attention(attn, windows, "5184 patches, windows of 64");
                b.attention(attn, new int[] {0, 2592, 5184}, "2 full frames of 2592");
            }
        }
    }
}

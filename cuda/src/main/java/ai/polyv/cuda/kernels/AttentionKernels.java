package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/**
 * The reference attention kernels (online softmax, a block of 4 warps per (row, head), attention_rows.cuh):
 * attention_causal.cu {@code attention_causal_f32(q, k, v, out, int n, int heads, int kvHeads, int hd, int start, float scale)}
 * and attention_segments.cu
 * {@code attention_segments_f32(q, k, v, out, int n, int heads, int hd, const int* rowStart, const int* rowEnd, float scale)}.
 */
public final class AttentionKernels {
    /** 32 * ATT_WARPS in attention_rows.cuh. */
    private static final int THREADS = 128;
    /** ATT_MAX_HD in attention_rows.cuh. */
    public static final int MAX_HEAD_DIM = 256;
    private final CUfunction causal, segments;

    public AttentionKernels(KernelLibrary lib) {
        this.causal = lib.module("attention_causal").function("attention_causal_f32");
        this.segments = lib.module("attention_segments").function("attention_segments_f32");
    }

    private static int headDim(String op, Tensor q, int heads) {
        if (heads <= 0 || q.cols() % heads != 0) throw new IllegalArgumentException(op + ": width " + q.cols() + " is not a multiple of " + heads + " heads");
        int hd = q.cols() / heads;
        if (hd > MAX_HEAD_DIM) throw new UnsupportedOperationException(op + ": head dim " + hd + " exceeds the kernel's " + MAX_HEAD_DIM);
        return hd;
    }

    /** {@code q, out [n, heads*hd]}, {@code k, v [>= start+n, kvHeads*hd]}. */
    public void causal(CudaStream s, Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start) {
        LaunchChecks.f32("attentionCausal", q, k, v, out);
        String op = "attentionCausal";
        int n = q.rows(), hd = headDim(op, q, heads);
        if (kvHeads <= 0 || heads % kvHeads != 0) throw new IllegalArgumentException(op + ": " + heads + " heads not a multiple of " + kvHeads + " kv heads");
        if (start < 0) throw new IllegalArgumentException(op + ": negative start " + start);
        if (k.cols() != kvHeads * hd || v.cols() != k.cols() || k.rows() < start + n || v.rows() < start + n) {
            throw new IllegalArgumentException(op + ": cache " + k + " / " + v + " too small for " + (start + n) + " rows of " + kvHeads + "x" + hd);
        }
        LaunchChecks.shape(op, "out", out, n, q.cols());
        float scale = (float) (1.0 / Math.sqrt(hd));
        Launch.run(causal, "attention_causal_f32", s, (long) n * heads, THREADS, 0,
                LaunchChecks.ptr(q), LaunchChecks.ptr(k), LaunchChecks.ptr(v), LaunchChecks.ptr(out), n, heads, kvHeads, hd, start, scale);
    }

    /** {@code q, k, v, out [n, heads*hd]}; {@code rowStart, rowEnd} device int32 {@code [n]}, checked by the caller. */
    public void segments(CudaStream s, Tensor q, Tensor k, Tensor v, Tensor out, int heads, long rowStart, long rowEnd) {
        String op = "attentionSegments";
        LaunchChecks.f32(op, q, k, v, out);
        int n = q.rows(), hd = headDim(op, q, heads);
        LaunchChecks.shape(op, "k", k, n, q.cols());
        LaunchChecks.shape(op, "v", v, n, q.cols());
        LaunchChecks.shape(op, "out", out, n, q.cols());
        float scale = (float) (1.0 / Math.sqrt(hd));
        Launch.run(segments, "attention_segments_f32", s, (long) n * heads, THREADS, 0,
                LaunchChecks.ptr(q), LaunchChecks.ptr(k), LaunchChecks.ptr(v), LaunchChecks.ptr(out), n, heads, hd, rowStart, rowEnd, scale);
    }
}

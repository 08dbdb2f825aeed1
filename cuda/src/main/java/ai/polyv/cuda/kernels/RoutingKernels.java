package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/**
 * softmax_topk.cu {@code softmax_topk_f32(const float* logits, int n, int m, int k, int renormalize, int* ids, float* weights)}
 * (one thread per row, m <= 256) and argmax.cu {@code argmax_f32(const float* x, int rows, int cols, int* ids)}.
 */
public final class RoutingKernels {
    public static final int MAX_EXPERTS = 256;
    private final CUfunction topk, argmax;

    public RoutingKernels(KernelLibrary lib) {
        this.topk = lib.module("softmax_topk").function("softmax_topk_f32");
        this.argmax = lib.module("argmax").function("argmax_f32");
    }

    /** {@code logits [n, m]}; {@code ids, weights} device buffers of {@code n*k} int32 / F32. */
    public void softmaxTopK(CudaStream s, Tensor logits, int k, boolean renormalize, long ids, long weights) {
        LaunchChecks.f32("softmaxTopK", logits);
        int n = logits.rows(), m = logits.cols();
        if (m > MAX_EXPERTS) throw new UnsupportedOperationException("softmaxTopK: " + m + " experts exceed the kernel's " + MAX_EXPERTS);
        if (k < 1 || k > m) throw new IllegalArgumentException("softmaxTopK: k=" + k + " not in [1, " + m + "]");
        Launch.run(topk, "softmax_topk_f32", s, (n + 127) / 128, 128, 0, LaunchChecks.ptr(logits), n, m, k, renormalize ? 1 : 0, ids, weights);
    }

    /** {@code x [rows, cols]}; {@code ids} device int32 {@code [rows]}. */
    public void argmax(CudaStream s, Tensor x, long ids) {
        LaunchChecks.f32("argmax", x);
        if (x.cols() == 0) throw new IllegalArgumentException("argmax: rows are empty: " + x);
        Launch.run(argmax, "argmax_f32", s, x.rows(), 256, 0, LaunchChecks.ptr(x), x.rows(), x.cols(), ids);
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/**
 * scatter_add_scaled.cu: {@code scatter_add_scaled_unique} / {@code scatter_add_scaled_ordered}
 * {@code (const float* src, const int* index, const float* scale, float* out, int count, int d)}:
 * {@code out[index[i]] += scale[i] * src[i]}. The unique variant (a block per row) needs distinct
 * rows; the ordered one (a thread per column, rows in order) takes any index.
 */
public final class ScatterAddScaledKernel {
    private static final int THREADS = 256;
    private final CUfunction unique, ordered;

    public ScatterAddScaledKernel(KernelLibrary lib) {
        this.unique = lib.module("scatter_add_scaled").function("scatter_add_scaled_unique");
        this.ordered = lib.module("scatter_add_scaled").function("scatter_add_scaled_ordered");
    }

    /** {@code src [count, d]}, {@code out [rows, d]}; {@code index}, {@code scale} device arrays of {@code count}. */
    public void launch(CudaStream s, Tensor src, long index, long scale, Tensor out, int count, boolean distinctRows) {
        LaunchChecks.f32("scatterAddScaled", src, out);
        LaunchChecks.shape("scatterAddScaled", "src", src, count, out.cols());
        int d = out.cols();
        if (distinctRows) {
            Launch.run(unique, "scatter_add_scaled_unique", s, count, THREADS, 0, LaunchChecks.ptr(src), index, scale, LaunchChecks.ptr(out), count, d);
        } else {
            Launch.run(ordered, "scatter_add_scaled_ordered", s, (d + THREADS - 1) / THREADS, THREADS, 0,
                    LaunchChecks.ptr(src), index, scale, LaunchChecks.ptr(out), count, d);
        }
    }
}

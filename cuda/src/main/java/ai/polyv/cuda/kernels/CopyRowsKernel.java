package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/**
 * copy_rows.cu: {@code copy_rows_f32(const float* src, const int* srcRows, float* dst, const int* dstRows, int count, int d)}:
 * {@code dst[dstRows[i]] = src[srcRows[i]]}, a 0 (null) index array meaning the identity.
 */
public final class CopyRowsKernel {
    private static final int THREADS = 256;
    private final CUfunction f;

    public CopyRowsKernel(KernelLibrary lib) {
        this.f = lib.module("copy_rows").function("copy_rows_f32");
    }

    /** Rows of {@code src} and {@code dst} have the same width; indices are device int32 arrays (or 0), range-checked by the caller. */
    public void launch(CudaStream s, Tensor src, long srcRows, Tensor dst, long dstRows, int count) {
        LaunchChecks.f32("copyRows", src, dst);
        if (src.cols() != dst.cols()) throw new IllegalArgumentException("row copy: widths differ: " + src + " -> " + dst);
        Launch.run(f, "copy_rows_f32", s, count, THREADS, 0, LaunchChecks.ptr(src), srcRows, LaunchChecks.ptr(dst), dstRows, count, src.cols());
    }
}

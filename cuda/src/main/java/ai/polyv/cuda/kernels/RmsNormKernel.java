package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/** rms_norm.cu: {@code rms_norm_f32(const float* x, const float* w, float* out, int rows, int d, float eps)}. */
public final class RmsNormKernel {
    private static final int THREADS = 256;
    private final CUfunction f;

    public RmsNormKernel(KernelLibrary lib) {
        this.f = lib.module("rms_norm").function("rms_norm_f32");
    }

    /** {@code x, out [rows, d]}, {@code w [d]}; {@code out} may be {@code x}. */
    public void launch(CudaStream s, Tensor x, Tensor w, float eps, Tensor out) {
        LaunchChecks.f32("rmsNorm", x, w, out);
        int rows = x.rows(), d = x.cols();
        LaunchChecks.shape("rmsNorm", "out", out, rows, d);
        if (w.numel() != d) throw new IllegalArgumentException("rmsNorm: weight must have " + d + " values, got " + w);
        Launch.run(f, "rms_norm_f32", s, rows, THREADS, 0, LaunchChecks.ptr(x), LaunchChecks.ptr(w), LaunchChecks.ptr(out), rows, d, eps);
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/** rope.cu: {@code rope_f32(float* x, int rows, int heads, int hd, const float* cos, const float* sin)}, in place. */
public final class RopeKernel {
    private static final int THREADS = 128;
    private final CUfunction f;

    public RopeKernel(KernelLibrary lib) {
        this.f = lib.module("rope").function("rope_f32");
    }

    /** {@code x [n, heads*hd]}, {@code cos, sin [n, hd]} (hd even). */
    public void launch(CudaStream s, Tensor x, int heads, Tensor cos, Tensor sin) {
        LaunchChecks.f32("rope", x, cos, sin);
        if (heads <= 0 || x.cols() % heads != 0) throw new IllegalArgumentException("rope: width " + x.cols() + " is not a multiple of " + heads + " heads");
        int n = x.rows(), hd = x.cols() / heads;
        if (hd % 2 != 0) throw new IllegalArgumentException("rope: head dim " + hd + " must be even");
        LaunchChecks.shape("rope", "cos", cos, n, hd);
        LaunchChecks.shape("rope", "sin", sin, n, hd);
        Launch.run(f, "rope_f32", s, n, THREADS, 0, LaunchChecks.ptr(x), n, heads, hd, LaunchChecks.ptr(cos), LaunchChecks.ptr(sin));
    }
}

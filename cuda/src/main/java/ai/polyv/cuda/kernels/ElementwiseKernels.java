package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/**
 * The elementwise ops, one kernel file each: silu_mul.cu {@code silu_mul_f32(gate, up, out, long long n)},
 * gelu.cu {@code gelu_erf_f32(x, out, long long n)}, add.cu {@code add_f32(a, b, out, long long n)},
 * bias_add.cu {@code bias_add_f32(out, bias, long long rows, int cols)}. All F32, any aliasing of
 * output and inputs allowed (each element is read before it is written, by one thread).
 */
public final class ElementwiseKernels {
    private static final int THREADS = 256;
    private final CUfunction siluMul, gelu, add, biasAdd;

    public ElementwiseKernels(KernelLibrary lib) {
        this.siluMul = lib.module("silu_mul").function("silu_mul_f32");
        this.gelu = lib.module("gelu").function("gelu_erf_f32");
        this.add = lib.module("add").function("add_f32");
        this.biasAdd = lib.module("bias_add").function("bias_add_f32");
    }

    public void siluMul(CudaStream s, Tensor gate, Tensor up, Tensor out) {
        LaunchChecks.f32("siluMul", gate, up, out);
        LaunchChecks.sameSize("siluMul", gate, up, out);
        long n = out.numel();
        Launch.run(siluMul, "silu_mul_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, LaunchChecks.ptr(gate), LaunchChecks.ptr(up), LaunchChecks.ptr(out), n);
    }

    public void gelu(CudaStream s, Tensor x, Tensor out) {
        LaunchChecks.f32("gelu", x, out);
        LaunchChecks.sameSize("gelu", x, out);
        long n = out.numel();
        Launch.run(gelu, "gelu_erf_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, LaunchChecks.ptr(x), LaunchChecks.ptr(out), n);
    }

    public void add(CudaStream s, Tensor a, Tensor b, Tensor out) {
        LaunchChecks.f32("add", a, b, out);
        LaunchChecks.sameSize("add", a, b, out);
        long n = out.numel();
        Launch.run(add, "add_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, LaunchChecks.ptr(a), LaunchChecks.ptr(b), LaunchChecks.ptr(out), n);
    }

    /** {@code out[r, c] += bias[c]}, {@code out [rows, cols]}, {@code bias [cols]}. */
    public void biasAdd(CudaStream s, Tensor out, Tensor bias) {
        LaunchChecks.f32("matmul bias", out, bias);
        if (bias.numel() != out.cols()) throw new IllegalArgumentException("matmul: bias must have " + out.cols() + " values, got " + bias);
        long n = out.numel();
        Launch.run(biasAdd, "bias_add_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, LaunchChecks.ptr(out), LaunchChecks.ptr(bias),
                (long) out.rows(), out.cols());
    }
}

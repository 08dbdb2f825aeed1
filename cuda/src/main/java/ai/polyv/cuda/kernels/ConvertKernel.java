package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.loader.safetensors.DType;
import jcuda.driver.CUfunction;

/**
 * convert.cu: {@code convert_to_f32(const void* src, int dtype, float* dst, long long n)} and
 * {@code convert_from_f32(const float* src, int dtype, unsigned short* dst, long long n)} (round to
 * nearest even), and {@code random_uniform(void* dst, int dtype, long long n, unsigned long long seed, float half_width)}
 * (benchmark weights made on the device). Raw addresses: used on weights before they become tensors.
 */
public final class ConvertKernel {
    private static final int THREADS = 256;
    private final CUfunction toF32, fromF32, random;

    public ConvertKernel(KernelLibrary lib) {
        this.toF32 = lib.module("convert").function("convert_to_f32");
        this.fromF32 = lib.module("convert").function("convert_from_f32");
        this.random = lib.module("convert").function("random_uniform");
    }

    /** {@code n} elements of {@code srcType} at {@code src} to F32 at {@code dst} (no overlap). */
    public void toF32(CudaStream s, long src, DType srcType, long dst, long n) {
        Launch.run(toF32, "convert_to_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, src, KernelDTypes.code(srcType), dst, n);
    }

    /** {@code n} F32 values at {@code src} to BF16 or F16 at {@code dst}. */
    public void fromF32(CudaStream s, long src, DType dstType, long dst, long n) {
        if (dstType == DType.F32) throw new IllegalArgumentException("convert_from_f32: target must be BF16 or F16");
        Launch.run(fromF32, "convert_from_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, src, KernelDTypes.code(dstType), dst, n);
    }

    /**
     * {@code n} values uniform in {@code [-halfWidth, halfWidth)} (F32 or BF16) at {@code dst}, element {@code i}
     * a hash of {@code (seed, i)}: the same for any launch shape.
     */
    public void randomUniform(CudaStream s, long dst, DType dtype, long n, long seed, float halfWidth) {
        if (dtype == DType.F16) throw new IllegalArgumentException("random_uniform: dtype must be F32 or BF16");
        Launch.run(random, "random_uniform", s, Launch.strideBlocks(n, THREADS), THREADS, 0, dst, KernelDTypes.code(dtype), n, seed, halfWidth);
    }
}

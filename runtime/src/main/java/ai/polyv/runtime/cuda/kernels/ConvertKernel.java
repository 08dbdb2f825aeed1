package ai.polyv.runtime.cuda.kernels;

import ai.polyv.runtime.cuda.CudaStream;
import ai.polyv.runtime.cuda.KernelLibrary;
import ai.polyv.runtime.tensor.DType;
import jcuda.driver.CUfunction;

/**
 * convert.cu: {@code convert_to_f32(const void* src, int dtype, float* dst, long long n)} and
 * {@code convert_from_f32(const float* src, int dtype, unsigned short* dst, long long n)} (round to
 * nearest even). Raw addresses: used on weights before they become tensors.
 */
public final class ConvertKernel {
    private static final int THREADS = 256;
    private final CUfunction toF32, fromF32;

    public ConvertKernel(KernelLibrary lib) {
        this.toF32 = lib.module("convert").function("convert_to_f32");
        this.fromF32 = lib.module("convert").function("convert_from_f32");
    }

    /** {@code n} elements of {@code srcType} at {@code src} to F32 at {@code dst} (no overlap). */
    public void toF32(CudaStream s, long src, DType srcType, long dst, long n) {
        Launch.run(toF32, "convert_to_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, src, DTypeCodes.code(srcType), dst, n);
    }

    /** {@code n} F32 values at {@code src} to BF16 or F16 at {@code dst}. */
    public void fromF32(CudaStream s, long src, DType dstType, long dst, long n) {
        if (dstType == DType.F32) throw new IllegalArgumentException("convert_from_f32: target must be BF16 or F16");
        Launch.run(fromF32, "convert_from_f32", s, Launch.strideBlocks(n, THREADS), THREADS, 0, src, DTypeCodes.code(dstType), dst, n);
    }
}

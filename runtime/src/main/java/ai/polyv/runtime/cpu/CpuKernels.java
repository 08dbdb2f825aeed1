package ai.polyv.runtime.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Fast CPU kernels (Vector API, multi-threaded where it pays) with the signatures and semantics of
 * {@link ScalarKernels}, which is their reference. float32 accumulation everywhere.
 *
 * <p>Layouts: activations are row-major float32 little-endian segments (heap or native) starting at
 * element 0; weights are row-major {@code [m, k]} in a {@link WeightFormat} (PyTorch {@code Linear} layout).
 */
public final class CpuKernels {
    private CpuKernels() {}

    /** {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias[m] if non-null)}; n == 1 is the GEMV path. */
    public static void matmul(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                              MemorySegment bias, MemorySegment out) {
        ScalarKernels.matmul(t, x, n, k, w, wf, m, bias, out);
    }

    /** HF RMSNorm per row: {@code out = x * rsqrt(mean(x^2) + eps) * weight}. */
    public static void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment weight, float eps, MemorySegment out) {
        ScalarKernels.rmsNorm(x, rows, dim, weight, eps, out);
    }

    /** {@code out = silu(gate) * up}. */
    public static void siluMul(MemorySegment gate, MemorySegment up, long count, MemorySegment out) {
        ScalarKernels.siluMul(gate, up, count, out);
    }

    /** Exact (erf) GELU. */
    public static void geluErf(MemorySegment x, long count, MemorySegment out) {
        ScalarKernels.geluErf(x, count, out);
    }

    /** {@code out = a + b}. */
    public static void add(MemorySegment a, MemorySegment b, long count, MemorySegment out) {
        ScalarKernels.add(a, b, count, out);
    }

    /** {@code out = x * s}. */
    public static void scale(MemorySegment x, long count, float s, MemorySegment out) {
        ScalarKernels.scale(x, count, s, out);
    }

    /** Row softmax in place, max-subtracted. */
    public static void softmaxRows(MemorySegment x, int rows, int cols) {
        ScalarKernels.softmaxRows(x, rows, cols);
    }

    /** Dot product of {@code len} float32 elements. */
    public static float dot(MemorySegment a, long aOffElems, MemorySegment b, long bOffElems, int len) {
        return ScalarKernels.dot(a, aOffElems, b, bOffElems, len);
    }

    /** {@code y += alpha * x} over {@code len} elements. */
    public static void axpy(float alpha, MemorySegment x, long xOffElems, MemorySegment y, long yOffElems, int len) {
        ScalarKernels.axpy(alpha, x, xOffElems, y, yOffElems, len);
    }

    /** Converts {@code count} elements in format {@code wf} to float32. */
    public static void toFloat32(MemorySegment src, WeightFormat wf, long count, MemorySegment dst) {
        ScalarKernels.toFloat32(src, wf, count, dst);
    }
}

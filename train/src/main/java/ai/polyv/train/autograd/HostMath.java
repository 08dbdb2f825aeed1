package ai.polyv.train.autograd;

import ai.polyv.core.cpu.CpuKernels;
import ai.polyv.core.cpu.CpuThreads;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Host float32 maths of the training ops on {@code float[]}: the three matrix products of a linear layer
 * (forward {@code x . W^T}, backward {@code dY . W} and {@code dY^T . X}) are the CPU kernels
 * ({@link CpuKernels#matmul}, {@link CpuKernels#matmulNN}, {@link CpuKernels#matmulTN}: vectorised, threaded
 * on the pool, serial when it is null, bitwise the same for any thread count) over the arrays wrapped as heap
 * segments, W read in place in its format (F32 host copy, or a frozen F32/BF16/F16 checkpoint tensor); plus
 * vector dot / axpy.
 */
final class HostMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final CpuThreads SERIAL = new CpuThreads(1);

    private HostMath() {}

    /**
     * {@code sum_i a[ao+i] * b[bo+i]}, float32 with vector partial sums; the lanes are added in lane order
     * (not {@code reduceLanes}, whose order is unspecified), so results are the same on every run.
     */
    static float dot(float[] a, int ao, float[] b, int bo, int len) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(len);
        for (; i < bound; i += S.length()) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        float s = 0;
        for (int l = 0; l < S.length(); l++) s += acc.lane(l);
        for (; i < len; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo+i] += alpha * x[xo+i]}. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        int i = 0, bound = S.loopBound(len);
        FloatVector av = FloatVector.broadcast(S, alpha);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(av, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < len; i++) y[yo + i] += alpha * x[xo + i];
    }

    static void parallel(CpuThreads pool, int count, CpuThreads.RangeTask task) {
        if (pool == null || count < 2) task.run(0, count);
        else pool.parallelFor(count, task);
    }

    /** {@code y[n, m] = x[n, k] . W^T (+ bias[m])}, W {@code [m, k]}: {@link CpuKernels#matmul} (GEMV / GEMM). */
    static void matmulNT(CpuThreads pool, float[] x, int n, int k, Weight w, float[] bias, float[] y) {
        CpuKernels.matmul(orSerial(pool), MemorySegment.ofArray(x), n, k, w.segment(), w.format(), w.out(),
                bias == null ? null : MemorySegment.ofArray(bias), MemorySegment.ofArray(y));
    }

    /** {@code dx[n, k] += dy[n, m] . W}, W {@code [m, k]}: {@link CpuKernels#matmulNN}. */
    static void matmulNN(CpuThreads pool, float[] dy, int n, Weight w, float[] dx) {
        CpuKernels.matmulNN(orSerial(pool), MemorySegment.ofArray(dy), n, w.out(), w.segment(), w.format(), w.in(),
                MemorySegment.ofArray(dx));
    }

    /** {@code dw[m, k] += dy[n, m]^T . x[n, k]}: {@link CpuKernels#matmulTN}. */
    static void matmulTN(CpuThreads pool, float[] dy, int n, int m, float[] x, int k, float[] dw) {
        CpuKernels.matmulTN(orSerial(pool), MemorySegment.ofArray(dy), n, m, MemorySegment.ofArray(x), k,
                MemorySegment.ofArray(dw));
    }

    /** The kernels take a pool; a null pool (serial tape) is a pool of one participant (no worker threads). */
    private static CpuThreads orSerial(CpuThreads pool) {
        return pool == null ? SERIAL : pool;
    }
}

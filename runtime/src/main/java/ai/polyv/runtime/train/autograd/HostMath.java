package ai.polyv.runtime.train.autograd;

import ai.polyv.runtime.cpu.CpuThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Host float32 loops of the training ops: the three matrix products of a linear layer (forward and
 * both backward products) parallel over independent output slices with {@link CpuThreads} (serial when
 * the pool is null), plus vector dot / axpy on {@code float[]}.
 */
final class HostMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

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

    /** {@code y[n, m] = x[n, k] . W^T (+ bias[m])}, W {@code [m, k]}; parallel over output columns. */
    static void matmulNT(CpuThreads pool, float[] x, int n, int k, Weight w, float[] bias, float[] y) {
        int m = w.out();
        parallel(pool, m, (o0, o1) -> {
            float[] row = new float[k];
            for (int o = o0; o < o1; o++) {
                w.row(o, 0, k, row);
                float b = bias == null ? 0f : bias[o];
                for (int i = 0; i < n; i++) y[i * m + o] = dot(x, i * k, row, 0, k) + b;
            }
        });
    }

    /** {@code dx[n, k] += dy[n, m] . W}, W {@code [m, k]}; parallel over slices of the k columns. */
    static void matmulNN(CpuThreads pool, float[] dy, int n, Weight w, float[] dx) {
        int m = w.out(), k = w.in();
        int slice = 64, slices = (k + slice - 1) / slice;
        parallel(pool, slices, (s0, s1) -> {
            float[] row = new float[slice];
            for (int s = s0; s < s1; s++) {
                int c0 = s * slice, c1 = Math.min(k, c0 + slice), len = c1 - c0;
                for (int o = 0; o < m; o++) {
                    w.row(o, c0, c1, row);
                    for (int i = 0; i < n; i++) {
                        float a = dy[i * m + o];
                        if (a != 0f) axpy(a, row, 0, dx, i * k + c0, len);
                    }
                }
            }
        });
    }

    /** {@code dw[m, k] += dy[n, m]^T . x[n, k]}; parallel over the m rows of dw. */
    static void matmulTN(CpuThreads pool, float[] dy, int n, int m, float[] x, int k, float[] dw) {
        parallel(pool, m, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                for (int i = 0; i < n; i++) {
                    float a = dy[i * m + o];
                    if (a != 0f) axpy(a, x, i * k, dw, o * k, k);
                }
            }
        });
    }
}

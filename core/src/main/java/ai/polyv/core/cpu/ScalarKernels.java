package ai.polyv.core.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The reference for every op of {@link CpuKernels}: same signatures and layouts, plain loops. Slow on purpose;
 * tests compare the fast kernels against these.
 *
 * <p><b>Accumulation rule</b> (the one rule of polyv's scalar references, stated alike on
 * {@code backend.ReferenceOps}): every reduction is accumulated in {@code double}, in index order, from float32
 * inputs widened exactly; each output element is rounded to float32 once, when it is stored (an accumulating
 * op such as {@link #matmulNN} rounds {@code out + sum} once).
 *
 * <p>Layouts: activations are row-major float32 little-endian segments starting at element 0; weights are
 * row-major {@code [m, k]} in a {@link WeightFormat} (PyTorch {@code Linear.weight} layout).
 */
public final class ScalarKernels {
    private ScalarKernels() {}

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(F32, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F32, i, v);
    }

    /**
     * {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias[m])}. {@code t} is unused (single thread).
     */
    public static void matmul(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                              MemorySegment bias, MemorySegment out) {
        Checks.matmul("matmul", x, n, k, w, wf, m, bias, out);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double acc = bias == null ? 0 : get(bias, j);
                long xo = (long) i * k, wo = (long) j * k;
                for (int p = 0; p < k; p++) acc += (double) get(x, xo + p) * wf.get(w, wo + p);
                set(out, (long) i * m + j, (float) acc);
            }
        }
    }

    /** {@code out[n, k] += dy[n, m] @ w[m, k]} (sum in double, then added to out). {@code t} is unused. */
    public static void matmulNN(CpuThreads t, MemorySegment dy, int n, int m, MemorySegment w, WeightFormat wf, int k,
                                MemorySegment out) {
        Checks.matmulNN("matmulNN", dy, n, m, w, wf, k, out);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                double acc = 0;
                for (int o = 0; o < m; o++) acc += (double) get(dy, (long) i * m + o) * wf.get(w, (long) o * k + c);
                long idx = (long) i * k + c;
                set(out, idx, (float) (get(out, idx) + acc));
            }
        }
    }

    /** {@code out[m, k] += dy[n, m]^T @ x[n, k]} (sum in double, then added to out). {@code t} is unused. */
    public static void matmulTN(CpuThreads t, MemorySegment dy, int n, int m, MemorySegment x, int k, MemorySegment out) {
        Checks.matmulTN("matmulTN", dy, n, m, x, k, out);
        for (int o = 0; o < m; o++) {
            for (int c = 0; c < k; c++) {
                double acc = 0;
                for (int i = 0; i < n; i++) acc += (double) get(dy, (long) i * m + o) * get(x, (long) i * k + c);
                long idx = (long) o * k + c;
                set(out, idx, (float) (get(out, idx) + acc));
            }
        }
    }

    /** HF RMSNorm per row: {@code out = x * rsqrt(mean(x^2) + eps) * weight}; x, out {@code [rows, dim]}, weight {@code [dim]}. */
    public static void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment weight, float eps, MemorySegment out) {
        Checks.nonNegative("rmsNorm", "rows", rows);
        Checks.nonNegative("rmsNorm", "dim", dim);
        Checks.fits("rmsNorm", "x [rows, dim]", x, (long) rows * dim, 4);
        Checks.fits("rmsNorm", "weight [dim]", weight, dim, 4);
        Checks.fits("rmsNorm", "out [rows, dim]", out, (long) rows * dim, 4);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                double v = get(x, o + i);
                ss += v * v;
            }
            double inv = 1.0 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) set(out, o + i, (float) (get(x, o + i) * inv * get(weight, i)));
        }
    }

    /** {@code out = silu(gate) * up}, {@code silu(g) = g / (1 + exp(-g))}. */
    public static void siluMul(MemorySegment gate, MemorySegment up, long count, MemorySegment out) {
        elementwise2("siluMul", gate, up, count, out);
        for (long i = 0; i < count; i++) {
            double g = get(gate, i);
            set(out, i, (float) (g / (1 + Math.exp(-g)) * get(up, i)));
        }
    }

    /** Exact (erf) GELU: {@code 0.5 x (1 + erf(x / sqrt 2))}. */
    public static void geluErf(MemorySegment x, long count, MemorySegment out) {
        elementwise1("geluErf", x, count, out);
        for (long i = 0; i < count; i++) set(out, i, (float) Erf.geluRef(get(x, i)));
    }

    /** {@code out = a + b}. */
    public static void add(MemorySegment a, MemorySegment b, long count, MemorySegment out) {
        elementwise2("add", a, b, count, out);
        for (long i = 0; i < count; i++) set(out, i, get(a, i) + get(b, i));
    }

    /** {@code out = x * s}. */
    public static void scale(MemorySegment x, long count, float s, MemorySegment out) {
        elementwise1("scale", x, count, out);
        for (long i = 0; i < count; i++) set(out, i, get(x, i) * s);
    }

    /** Row softmax in place: {@code x[r, :] = exp(x - max) / sum}. A row of all {@code -inf} becomes NaN (as PyTorch). */
    public static void softmaxRows(MemorySegment x, int rows, int cols) {
        Checks.nonNegative("softmaxRows", "rows", rows);
        Checks.nonNegative("softmaxRows", "cols", cols);
        Checks.fits("softmaxRows", "x [rows, cols]", x, (long) rows * cols, 4);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, get(x, o + c));
            double sum = 0;
            double[] e = new double[cols];
            for (int c = 0; c < cols; c++) {
                e[c] = Math.exp((double) get(x, o + c) - max);
                sum += e[c];
            }
            for (int c = 0; c < cols; c++) set(x, o + c, (float) (e[c] / sum));
        }
    }

    /** {@code sum_i a[aOff + i] * b[bOff + i]} over {@code len} float32 elements. */
    public static float dot(MemorySegment a, long aOffElems, MemorySegment b, long bOffElems, int len) {
        Checks.offsets("dot", "a", a, aOffElems, len);
        Checks.offsets("dot", "b", b, bOffElems, len);
        double acc = 0;
        for (int i = 0; i < len; i++) acc += (double) get(a, aOffElems + i) * get(b, bOffElems + i);
        return (float) acc;
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for {@code i < len}. */
    public static void axpy(float alpha, MemorySegment x, long xOffElems, MemorySegment y, long yOffElems, int len) {
        Checks.offsets("axpy", "x", x, xOffElems, len);
        Checks.offsets("axpy", "y", y, yOffElems, len);
        for (int i = 0; i < len; i++) set(y, yOffElems + i, get(y, yOffElems + i) + alpha * get(x, xOffElems + i));
    }

    /** Converts {@code count} elements of {@code src} in format {@code wf} to float32 {@code dst} (e.g. an embedding row). */
    public static void toFloat32(MemorySegment src, WeightFormat wf, long count, MemorySegment dst) {
        Checks.nonNegative("toFloat32", "count", count);
        Checks.fits("toFloat32", "src " + wf, src, count, wf.byteSize());
        Checks.fits("toFloat32", "dst", dst, count, 4);
        for (long i = 0; i < count; i++) set(dst, i, wf.get(src, i));
    }

    static void elementwise1(String op, MemorySegment x, long count, MemorySegment out) {
        Checks.nonNegative(op, "count", count);
        Checks.fits(op, "x", x, count, 4);
        Checks.fits(op, "out", out, count, 4);
    }

    static void elementwise2(String op, MemorySegment a, MemorySegment b, long count, MemorySegment out) {
        Checks.nonNegative(op, "count", count);
        Checks.fits(op, "a", a, count, 4);
        Checks.fits(op, "b", b, count, 4);
        Checks.fits(op, "out", out, count, 4);
    }
}

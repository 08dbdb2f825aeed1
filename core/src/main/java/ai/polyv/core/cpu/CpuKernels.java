package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;
import static ai.polyv.core.cpu.VectorOps.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Fast CPU kernels (Vector API, multi-threaded where it pays) with the signatures and semantics of
 * {@link ScalarKernels}, which is their reference. float32 accumulation everywhere; no activation is
 * rounded to a narrower type.
 *
 * <p>Layouts: activations are row-major float32 little-endian segments (heap or native) starting at
 * element 0; weights are row-major {@code [m, k]} in a {@link WeightFormat} (PyTorch {@code Linear} layout).
 *
 * <p>matmul: {@code n == 1} is the GEMV path (memory-bound): the output rows are split over the threads in
 * contiguous runs; BF16 rows of up to {@link #GEMV_ONE_ROW_MAX_K} values are read one at a time (one weight stream per
 * core), longer rows in groups of 4 that share each load of x; BF16 weights are widened in registers. {@code n > 1}
 * is {@link Gemm}: below 2 vectors of rows and BF16 weights, {@link SmallBatchGemm} (batched decode: weights
 * widened in registers, read once per call); from 2 vectors of rows the outer-product kernel {@link OuterGemm} (transposed x panels, float32
 * weight packs, 2x8 vector accumulators, no lane reductions), below that the 4x4 dot-product micro-kernel.
 *
 * <p>matmulNN / matmulTN (the backward products of a linear layer, accumulating into their output) are
 * {@link AccumGemm}: broadcast micro-kernel over 4 rows x 4 vectors of columns, float32 packs, no lane reductions.
 */
public final class CpuKernels {
    private CpuKernels() {}

    /**
     * {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias[m] if non-null)}; n == 1 is the GEMV path. The segments
     * must be readable by the pool's threads (heap, global, auto or shared arena; not a confined arena).
     */
    public static void matmul(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                              MemorySegment bias, MemorySegment out) {
        Checks.matmul("matmul", x, n, k, w, wf, m, bias, out);
        if (t == null) throw new NullPointerException("matmul: CpuThreads is null");
        t.checkShared("matmul", "x", x);
        t.checkShared("matmul", "w", w);
        t.checkShared("matmul", "bias", bias);
        t.checkShared("matmul", "out", out);
        if (n == 0 || m == 0) return;
        // heap weights (training's host copies) take the GEMM path, which packs them: vector loads that see
        // both heap and native segments box their vectors (see Gemm.PACK)
        if (n == 1 && wf != WeightFormat.F16 && w.isNative()) {
            gemv(t, nativeCopy(x, k), k, w, wf, m, bias, out);
        } else {
            Gemm.run(t, x, n, k, w, wf, m, bias, out);
        }
    }

    /**
     * {@code out[n, k] += dy[n, m] @ w[m, k]}: the input gradient of {@code y = x @ w^T} (PyTorch {@code Linear}
     * layout, any {@link WeightFormat}). {@link AccumGemm}: every element is one fma chain over {@code m} in order
     * from its old value, bitwise the same for any thread count.
     */
    public static void matmulNN(CpuThreads t, MemorySegment dy, int n, int m, MemorySegment w, WeightFormat wf, int k,
                                MemorySegment out) {
        Checks.matmulNN("matmulNN", dy, n, m, w, wf, k, out);
        if (t == null) throw new NullPointerException("matmulNN: CpuThreads is null");
        t.checkShared("matmulNN", "dy", dy);
        t.checkShared("matmulNN", "w", w);
        t.checkShared("matmulNN", "out", out);
        AccumGemm.run(t, dy, m, 1, n, m, w, wf, k, out);
    }

    /**
     * {@code out[m, k] += dy[n, m]^T @ x[n, k]}: the weight gradient of {@code y = x @ w^T}, all float32.
     * {@link AccumGemm}: every element is one fma chain over {@code n} in order from its old value, bitwise the
     * same for any thread count.
     */
    public static void matmulTN(CpuThreads t, MemorySegment dy, int n, int m, MemorySegment x, int k, MemorySegment out) {
        Checks.matmulTN("matmulTN", dy, n, m, x, k, out);
        if (t == null) throw new NullPointerException("matmulTN: CpuThreads is null");
        t.checkShared("matmulTN", "dy", dy);
        t.checkShared("matmulTN", "x", x);
        t.checkShared("matmulTN", "out", out);
        AccumGemm.run(t, dy, 1, m, m, n, x, WeightFormat.F32, k, out);
    }

    /** The caller's native copies of heap operands (an auto arena, so the workers may read them). */
    private static final ThreadLocal<MemorySegment> NATIVE_COPY = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    /**
     * {@code s} itself when it is native, else its first {@code floats} float32 elements copied into a
     * per-thread native buffer (valid until the calling thread's next copy): the vector kernels that load
     * activations directly (GEMV, the dot-product GEMM) then only ever see native segments.
     */
    static MemorySegment nativeCopy(MemorySegment s, long floats) {
        if (s.isNative()) return s;
        MemorySegment buf = NATIVE_COPY.get();
        if (buf.byteSize() < 4 * floats) NATIVE_COPY.set(buf = Arena.ofAuto().allocate(Math.max(4 * floats, 4096), 64));
        MemorySegment.copy(s, 0, buf, 0, 4 * floats);
        return buf;
    }

    // ---------------------------------------------------------------- GEMV

    /** Output rows per GEMV work unit on long rows: 4 weight rows share each x load. */
    static final int GEMV_ROWS = 4;

    /**
     * Longest row (in values) that the GEMV reads one weight row at a time. Up to here x (float32, at most
     * 16 KiB: half the 32 KiB L1d) stays in L1 while one row streams, and one contiguous stream per core reads
     * memory faster than 4 interleaved ones: BF16 on the 2-core Zen 4 VM, 2 threads, 1024-3584 columns and the
     * 151,680 x 1024 lm_head, 1.4-2.4x the 4-row kernel. Past it x no longer stays in L1, each row re-reads it
     * from L2 (twice the weight bytes for BF16) and 4 rows sharing each x load win: 6144-18944 columns,
     * 1.4-1.7x the one-row kernel (5120 columns: a tie). Both orders give the same bits: each row is one fma
     * chain over its columns in order, then {@link VectorOps#sumLanes}. BF16 only: float32 rows re-read as many
     * x bytes as weight bytes, and at 3,584 columns one row at a time was 0.6-0.8x the 4-row kernel.
     */
    static final int GEMV_ONE_ROW_MAX_K = 4096;

    /**
     * Work units of the GEMV are rows (short rows) or groups of {@link #GEMV_ROWS} rows (long rows); the pool
     * hands each participant contiguous runs of them. Every output value is the same fma chain whatever the
     * unit and the thread count.
     */
    static void gemv(CpuThreads t, MemorySegment x, int k, MemorySegment w, WeightFormat wf, int m,
                     MemorySegment bias, MemorySegment out) {
        boolean oneRow = wf == WeightFormat.BF16 && k <= GEMV_ONE_ROW_MAX_K;
        int units = oneRow ? m : (m + GEMV_ROWS - 1) / GEMV_ROWS;
        CpuThreads.RangeTask task;
        if (oneRow) task = (from, to) -> gemvBf16Rows(x, k, w, bias, out, from, to);
        else if (wf == WeightFormat.BF16) task = (from, to) -> gemvBf16(x, k, w, m, bias, out, from, to);
        else task = (from, to) -> gemvF32(x, k, w, m, bias, out, from, to);
        // below ~64K weights per call the pool hand-off costs more than it saves
        if ((long) m * k < 65_536) task.run(0, units);
        else t.parallelFor(units, task);
    }

    /** Rows {@code [from, to)}, one at a time: one accumulator, one contiguous weight stream. */
    static void gemvBf16Rows(MemorySegment x, int k, MemorySegment w, MemorySegment bias,
                                     MemorySegment out, int from, int to) {
        long rowBytes = (long) k * 2;
        int kv = FS.loopBound(k);
        for (int j = from; j < to; j++) {
            long w0 = j * rowBytes;
            FloatVector a = FloatVector.zero(FS);
            int p = 0;
            for (; p < kv; p += L) {
                a = VectorOps.bf16(w, w0 + (long) p * 2).fma(VectorOps.f32(x, (long) p * 4), a);
            }
            if (p < k) {
                VectorMask<Float> mk = FS.indexInRange(p, k);
                a = VectorOps.bf16(w, w0 + (long) p * 2, mk).fma(VectorOps.f32(x, (long) p * 4, mk), a);
            }
            storeGemv(out, bias, j, VectorOps.sumLanes(a));
        }
    }

    private static void gemvF32(MemorySegment x, int k, MemorySegment w, int m, MemorySegment bias,
                                MemorySegment out, int gFrom, int gTo) {
        long rowBytes = (long) k * 4;
        int kv = FS.loopBound(k);
        for (int g = gFrom; g < gTo; g++) {
            int j0 = g * GEMV_ROWS;
            // rows past m repeat the last row (computed, not stored)
            long w0 = j0 * rowBytes, w1 = Math.min(j0 + 1, m - 1) * rowBytes,
                    w2 = Math.min(j0 + 2, m - 1) * rowBytes, w3 = Math.min(j0 + 3, m - 1) * rowBytes;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            int p = 0;
            for (; p < kv; p += L) {
                long xb = (long) p * 4;
                FloatVector xv = VectorOps.f32(x, xb);
                a0 = VectorOps.f32(w, w0 + xb).fma(xv, a0);
                a1 = VectorOps.f32(w, w1 + xb).fma(xv, a1);
                a2 = VectorOps.f32(w, w2 + xb).fma(xv, a2);
                a3 = VectorOps.f32(w, w3 + xb).fma(xv, a3);
            }
            if (p < k) {
                VectorMask<Float> mk = FS.indexInRange(p, k);
                long xb = (long) p * 4;
                FloatVector xv = VectorOps.f32(x, xb, mk);
                a0 = VectorOps.f32(w, w0 + xb, mk).fma(xv, a0);
                a1 = VectorOps.f32(w, w1 + xb, mk).fma(xv, a1);
                a2 = VectorOps.f32(w, w2 + xb, mk).fma(xv, a2);
                a3 = VectorOps.f32(w, w3 + xb, mk).fma(xv, a3);
            }
            storeGemv(out, bias, m, j0, VectorOps.sumLanes(a0), VectorOps.sumLanes(a1),
                    VectorOps.sumLanes(a2), VectorOps.sumLanes(a3));
        }
    }

    static void gemvBf16(MemorySegment x, int k, MemorySegment w, int m, MemorySegment bias,
                                 MemorySegment out, int gFrom, int gTo) {
        long rowBytes = (long) k * 2;
        int kv = FS.loopBound(k);
        for (int g = gFrom; g < gTo; g++) {
            int j0 = g * GEMV_ROWS;
            long w0 = j0 * rowBytes, w1 = Math.min(j0 + 1, m - 1) * rowBytes,
                    w2 = Math.min(j0 + 2, m - 1) * rowBytes, w3 = Math.min(j0 + 3, m - 1) * rowBytes;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            int p = 0;
            for (; p < kv; p += L) {
                FloatVector xv = VectorOps.f32(x, (long) p * 4);
                long wb = (long) p * 2;
                a0 = VectorOps.bf16(w, w0 + wb).fma(xv, a0);
                a1 = VectorOps.bf16(w, w1 + wb).fma(xv, a1);
                a2 = VectorOps.bf16(w, w2 + wb).fma(xv, a2);
                a3 = VectorOps.bf16(w, w3 + wb).fma(xv, a3);
            }
            if (p < k) {
                VectorMask<Float> mk = FS.indexInRange(p, k);
                FloatVector xv = VectorOps.f32(x, (long) p * 4, mk);
                long wb = (long) p * 2;
                a0 = VectorOps.bf16(w, w0 + wb, mk).fma(xv, a0);
                a1 = VectorOps.bf16(w, w1 + wb, mk).fma(xv, a1);
                a2 = VectorOps.bf16(w, w2 + wb, mk).fma(xv, a2);
                a3 = VectorOps.bf16(w, w3 + wb, mk).fma(xv, a3);
            }
            storeGemv(out, bias, m, j0, VectorOps.sumLanes(a0), VectorOps.sumLanes(a1),
                    VectorOps.sumLanes(a2), VectorOps.sumLanes(a3));
        }
    }

    /**
     * Stores the 4 row sums of a group. Takes floats, not vectors: a vector that escapes into an array or a
     * non-inlined call makes C2 box the loop's accumulators on every iteration (about 14x slower).
     */
    private static void storeGemv(MemorySegment out, MemorySegment bias, int m, int j0, float s0, float s1, float s2, float s3) {
        storeGemv(out, bias, j0, s0);
        if (j0 + 1 < m) storeGemv(out, bias, j0 + 1, s1);
        if (j0 + 2 < m) storeGemv(out, bias, j0 + 2, s2);
        if (j0 + 3 < m) storeGemv(out, bias, j0 + 3, s3);
    }

    private static void storeGemv(MemorySegment out, MemorySegment bias, int j, float s) {
        ScalarKernels.set(out, j, bias == null ? s : s + ScalarKernels.get(bias, j));
    }

    // ---------------------------------------------------------------- element-wise

    /** HF RMSNorm per row: {@code out = (x * rsqrt(mean(x^2) + eps)) * weight}, all in float32. */
    public static void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment weight, float eps, MemorySegment out) {
        Checks.nonNegative("rmsNorm", "rows", rows);
        Checks.nonNegative("rmsNorm", "dim", dim);
        Checks.fits("rmsNorm", "x [rows, dim]", x, (long) rows * dim, 4);
        Checks.fits("rmsNorm", "weight [dim]", weight, dim, 4);
        Checks.fits("rmsNorm", "out [rows, dim]", out, (long) rows * dim, 4);
        int dv = FS.loopBound(dim);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * dim * 4;
            FloatVector s0 = FloatVector.zero(FS), s1 = s0;
            int i = 0;
            for (; i + 2 * L <= dim; i += 2 * L) {
                FloatVector v0 = VectorOps.f32(x, o + i * 4L), v1 = VectorOps.f32(x, o + (i + L) * 4L);
                s0 = v0.fma(v0, s0);
                s1 = v1.fma(v1, s1);
            }
            for (; i < dv; i += L) {
                FloatVector v = VectorOps.f32(x, o + i * 4L);
                s0 = v.fma(v, s0);
            }
            float ss = VectorOps.sumLanes(s0.add(s1));
            for (; i < dim; i++) {
                float v = ScalarKernels.get(x, o / 4 + i);
                ss += v * v;
            }
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (i = 0; i < dv; i += L) {
                VectorOps.f32(x, o + i * 4L).mul(inv).mul(VectorOps.f32(weight, i * 4L)).intoMemorySegment(out, o + i * 4L, LE);
            }
            for (; i < dim; i++) ScalarKernels.set(out, o / 4 + i, ScalarKernels.get(x, o / 4 + i) * inv * ScalarKernels.get(weight, i));
        }
    }

    /** {@code out = silu(gate) * up}, {@code silu(g) = g / (1 + exp(-g))}. */
    public static void siluMul(MemorySegment gate, MemorySegment up, long count, MemorySegment out) {
        ScalarKernels.elementwise2("siluMul", gate, up, count, out);
        long cv = FS.loopBound(count);
        long i = 0;
        for (; i < cv; i += L) {
            long b = i * 4;
            FloatVector g = VectorOps.f32(gate, b);
            FloatVector e = VectorOps.exp(g.neg()).add(1f);
            g.div(e).mul(VectorOps.f32(up, b)).intoMemorySegment(out, b, LE);
        }
        for (; i < count; i++) {
            float g = ScalarKernels.get(gate, i);
            ScalarKernels.set(out, i, g / (1f + (float) Math.exp(-g)) * ScalarKernels.get(up, i));
        }
    }

    /** Exact (erf) GELU: {@code 0.5 x (1 + erf(x / sqrt 2))}, erf to float32 accuracy. */
    public static void geluErf(MemorySegment x, long count, MemorySegment out) {
        ScalarKernels.elementwise1("geluErf", x, count, out);
        long cv = FS.loopBound(count);
        long i = 0;
        for (; i < cv; i += L) VectorOps.gelu(VectorOps.f32(x, i * 4)).intoMemorySegment(out, i * 4, LE);
        for (; i < count; i++) ScalarKernels.set(out, i, VectorOps.gelu(ScalarKernels.get(x, i)));
    }

    /** {@code out = a + b}. */
    public static void add(MemorySegment a, MemorySegment b, long count, MemorySegment out) {
        ScalarKernels.elementwise2("add", a, b, count, out);
        long cv = FS.loopBound(count);
        long i = 0;
        for (; i < cv; i += L) VectorOps.f32(a, i * 4).add(VectorOps.f32(b, i * 4)).intoMemorySegment(out, i * 4, LE);
        for (; i < count; i++) ScalarKernels.set(out, i, ScalarKernels.get(a, i) + ScalarKernels.get(b, i));
    }

    /** {@code out = x * s}. */
    public static void scale(MemorySegment x, long count, float s, MemorySegment out) {
        ScalarKernels.elementwise1("scale", x, count, out);
        long cv = FS.loopBound(count);
        long i = 0;
        for (; i < cv; i += L) VectorOps.f32(x, i * 4).mul(s).intoMemorySegment(out, i * 4, LE);
        for (; i < count; i++) ScalarKernels.set(out, i, ScalarKernels.get(x, i) * s);
    }

    /** Row softmax in place: {@code exp(x - rowmax) / sum}. A row of all {@code -inf} becomes NaN (as PyTorch). */
    public static void softmaxRows(MemorySegment x, int rows, int cols) {
        Checks.nonNegative("softmaxRows", "rows", rows);
        Checks.nonNegative("softmaxRows", "cols", cols);
        Checks.fits("softmaxRows", "x [rows, cols]", x, (long) rows * cols, 4);
        int cv = FS.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * cols;
            FloatVector mv = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
            int c = 0;
            for (; c < cv; c += L) mv = mv.max(VectorOps.f32(x, (o + c) * 4));
            float max = mv.reduceLanes(VectorOperators.MAX);
            for (; c < cols; c++) max = Math.max(max, ScalarKernels.get(x, o + c));
            FloatVector sv = FloatVector.zero(FS);
            for (c = 0; c < cv; c += L) {
                FloatVector e = VectorOps.exp(VectorOps.f32(x, (o + c) * 4).sub(max));
                e.intoMemorySegment(x, (o + c) * 4, LE);
                sv = sv.add(e);
            }
            float sum = VectorOps.sumLanes(sv);
            for (; c < cols; c++) {
                float e = (float) Math.exp(ScalarKernels.get(x, o + c) - max);
                ScalarKernels.set(x, o + c, e);
                sum += e;
            }
            float inv = 1f / sum;
            for (c = 0; c < cv; c += L) VectorOps.f32(x, (o + c) * 4).mul(inv).intoMemorySegment(x, (o + c) * 4, LE);
            for (; c < cols; c++) ScalarKernels.set(x, o + c, ScalarKernels.get(x, o + c) * inv);
        }
    }

    /** {@code sum_i a[aOff + i] * b[bOff + i]}, float32 accumulation in 4 vector partial sums. */
    public static float dot(MemorySegment a, long aOffElems, MemorySegment b, long bOffElems, int len) {
        Checks.offsets("dot", "a", a, aOffElems, len);
        Checks.offsets("dot", "b", b, bOffElems, len);
        long ab = aOffElems * 4, bb = bOffElems * 4;
        FloatVector s0 = FloatVector.zero(FS), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 4 * L <= len; i += 4 * L) {
            long d = i * 4L;
            s0 = VectorOps.f32(a, ab + d).fma(VectorOps.f32(b, bb + d), s0);
            s1 = VectorOps.f32(a, ab + d + 4L * L).fma(VectorOps.f32(b, bb + d + 4L * L), s1);
            s2 = VectorOps.f32(a, ab + d + 8L * L).fma(VectorOps.f32(b, bb + d + 8L * L), s2);
            s3 = VectorOps.f32(a, ab + d + 12L * L).fma(VectorOps.f32(b, bb + d + 12L * L), s3);
        }
        for (; i + L <= len; i += L) s0 = VectorOps.f32(a, ab + i * 4L).fma(VectorOps.f32(b, bb + i * 4L), s0);
        float s = VectorOps.sumLanes(s0.add(s1).add(s2.add(s3)));
        for (; i < len; i++) s += ScalarKernels.get(a, aOffElems + i) * ScalarKernels.get(b, bOffElems + i);
        return s;
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for {@code i < len}. */
    public static void axpy(float alpha, MemorySegment x, long xOffElems, MemorySegment y, long yOffElems, int len) {
        Checks.offsets("axpy", "x", x, xOffElems, len);
        Checks.offsets("axpy", "y", y, yOffElems, len);
        long xb = xOffElems * 4, yb = yOffElems * 4;
        int lv = FS.loopBound(len);
        FloatVector av = FloatVector.broadcast(FS, alpha);
        int i = 0;
        for (; i < lv; i += L) {
            long d = i * 4L;
            VectorOps.f32(x, xb + d).fma(av, VectorOps.f32(y, yb + d)).intoMemorySegment(y, yb + d, LE);
        }
        for (; i < len; i++) {
            ScalarKernels.set(y, yOffElems + i, Math.fma(alpha, ScalarKernels.get(x, xOffElems + i), ScalarKernels.get(y, yOffElems + i)));
        }
    }

    /**
     * Rotate-half RoPE in place: {@code x[rows, heads*hd]}, {@code cos, sin [rows, hd]}; per head, for c < hd/2,
     * {@code x1' = x1 cos[c] - x2 sin[c]}, {@code x2' = x2 cos[c+h] + x1 sin[c+h]} (x1 = x[c], x2 = x[c+h]).
     * Products then one add, no fma: bit for bit the scalar statement. Rows are split over the threads.
     */
    public static void rope(CpuThreads t, MemorySegment x, int rows, int heads, int hd, MemorySegment cos, MemorySegment sin) {
        Checks.nonNegative("rope", "rows", rows);
        if (heads < 1 || hd < 0 || hd % 2 != 0) throw new IllegalArgumentException("rope: heads=" + heads + " hd=" + hd + " (hd must be even)");
        Checks.fits("rope", "x [rows, heads*hd]", x, (long) rows * heads * hd, 4);
        Checks.fits("rope", "cos [rows, hd]", cos, (long) rows * hd, 4);
        Checks.fits("rope", "sin [rows, hd]", sin, (long) rows * hd, 4);
        CpuThreads.RangeTask task = (from, to) -> ropeRows(x, heads, hd, cos, sin, from, to);
        if ((long) rows * heads * hd < 32_768) task.run(0, rows);
        else t.parallelFor(rows, task);
    }

    private static void ropeRows(MemorySegment x, int heads, int hd, MemorySegment cos, MemorySegment sin, int from, int to) {
        int half = hd / 2, hv = FS.loopBound(half);
        for (int r = from; r < to; r++) {
            long cs = (long) r * hd * 4;
            for (int h = 0; h < heads; h++) {
                long b = ((long) r * heads + h) * hd * 4;
                int c = 0;
                for (; c < hv; c += L) {
                    long lo = c * 4L, hi = (c + half) * 4L;
                    FloatVector x1 = VectorOps.f32(x, b + lo), x2 = VectorOps.f32(x, b + hi);
                    x1.mul(VectorOps.f32(cos, cs + lo)).add(x2.neg().mul(VectorOps.f32(sin, cs + lo))).intoMemorySegment(x, b + lo, LE);
                    x2.mul(VectorOps.f32(cos, cs + hi)).add(x1.mul(VectorOps.f32(sin, cs + hi))).intoMemorySegment(x, b + hi, LE);
                }
                long e = b / 4, ce = cs / 4;
                for (; c < half; c++) {
                    float x1 = ScalarKernels.get(x, e + c), x2 = ScalarKernels.get(x, e + c + half);
                    ScalarKernels.set(x, e + c, x1 * ScalarKernels.get(cos, ce + c) + -x2 * ScalarKernels.get(sin, ce + c));
                    ScalarKernels.set(x, e + c + half, x2 * ScalarKernels.get(cos, ce + c + half) + x1 * ScalarKernels.get(sin, ce + c + half));
                }
            }
        }
    }

    /** Converts {@code count} elements in format {@code wf} to float32 (exact for every format). */
    public static void toFloat32(MemorySegment src, WeightFormat wf, long count, MemorySegment dst) {
        Checks.nonNegative("toFloat32", "count", count);
        Checks.fits("toFloat32", "src " + wf, src, count, wf.byteSize());
        Checks.fits("toFloat32", "dst", dst, count, 4);
        convertRow(src, 0, wf, count, dst, 0);
    }

    /** {@code count} elements of {@code src} from byte {@code srcByte} to float32 {@code dst} from byte {@code dstByte}. */
    static void convertRow(MemorySegment src, long srcByte, WeightFormat wf, long count, MemorySegment dst, long dstByte) {
        long cv = FS.loopBound(count);
        long i = 0;
        switch (wf) {
            case F32 -> MemorySegment.copy(src, srcByte, dst, dstByte, count * 4);
            case BF16 -> {
                for (; i < cv; i += L) VectorOps.bf16(src, srcByte + i * 2).intoMemorySegment(dst, dstByte + i * 4, LE);
                for (; i < count; i++) ScalarKernels.set(dst, dstByte / 4 + i, wf.get(src, srcByte / 2 + i));
            }
            case F16 -> {
                for (; i < cv; i += L) VectorOps.f16(src, srcByte + i * 2).intoMemorySegment(dst, dstByte + i * 4, LE);
                for (; i < count; i++) ScalarKernels.set(dst, dstByte / 4 + i, wf.get(src, srcByte / 2 + i));
            }
        }
    }
}

package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;
import static ai.polyv.core.cpu.VectorOps.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias)} for {@code n > 1}. From {@link #PW} rows on this is
 * {@link OuterGemm} (outer-product micro-kernel, no lane reductions); below, BF16 weights go to
 * {@link SmallBatchGemm} (widened in registers, no pack) and F32/F16 to the blocked GEMM in the dot-product form
 * here (both operands are k-contiguous, so no transposition is needed).
 *
 * <p>Work unit: a tile of {@code jb} weight rows (the threads share tiles out). Per tile and k-block of
 * {@code kb}: BF16/F16 weights are converted once into a float32 pack {@code [jb, kb]} (reused by every
 * x row, so conversion is amortised over n); then a 4x4 register micro-kernel (4 x rows x 4 weight rows,
 * 16 vector accumulators, 8 loads per 16 FMAs) runs over the k-block and adds its 16 sums into
 * {@code out}. The pack ({@code jb*kb*4} bytes) and the 4 x rows ({@code 4*kb*4} bytes) are sized to stay
 * in L1/L2. Rows past n or past the tile repeat the last valid row (computed, not stored).
 */
final class Gemm {
    private Gemm() {}

    static final int DEFAULT_JB = 16;
    static final int DEFAULT_KB = 512;
    static final int MR = 4, NR = 4;

    /**
     * Per-thread float32 pack, native memory (an auto arena: any thread may read it, the GC frees it). Native
     * like the activations, so the micro-kernel's loads see one segment kind: a heap pack beside native x
     * made the load sites bimorphic and BF16 GEMM about 3x slower than F32 GEMM. For the same reason heap
     * operands (the training tape's {@code float[]}) never reach the micro-kernel: heap F32 weights are packed
     * too (the same values, so the same bits as reading them in place), heap x is copied to native memory.
     */
    private static final ThreadLocal<MemorySegment> PACK = ThreadLocal.withInitial(() -> MemorySegment.NULL);
    /** Per-thread native scratch for the micro-kernel's 16 accumulators. */
    private static final ThreadLocal<MemorySegment> SUMS = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(4L * MR * NR * L, 64));

    /**
     * Dispatch: the outer-product kernel once n fills a panel of {@link #PW} rows; below, native BF16 weights go to
     * {@link SmallBatchGemm} (heap x copied to native memory, see {@link #PACK}), the rest to the dot-product kernel.
     */
    static void run(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                    MemorySegment bias, MemorySegment out) {
        if (n >= PW) OuterGemm.run(t, x, n, k, w, wf, m, bias, out, OuterGemm.DEFAULT_JB, OuterGemm.DEFAULT_KB);
        else if (wf == WeightFormat.BF16 && w.isNative()) SmallBatchGemm.bf16(t, CpuKernels.nativeCopy(x, (long) n * k), n, k, w, m, bias, out);
        else runDot(t, x, n, k, w, wf, m, bias, out, DEFAULT_JB, DEFAULT_KB);
    }

    /** Rows per panel of the outer-product kernel (two vectors). */
    static final int PW = 2 * L;

    static void runDot(CpuThreads t, MemorySegment x0, int n, int k, MemorySegment w, WeightFormat wf, int m,
                    MemorySegment bias, MemorySegment out, int jb, int kb) {
        if (jb % NR != 0 || jb <= 0 || kb <= 0) throw new IllegalArgumentException("gemm: bad blocking jb=" + jb + " kb=" + kb);
        int tiles = (m + jb - 1) / jb;
        // heap operands (the training tape's float[]) are copied to native memory: see PACK
        MemorySegment x = CpuKernels.nativeCopy(x0, (long) n * k);
        boolean packW = wf != WeightFormat.F32 || !w.isNative();
        CpuThreads.RangeTask task = (from, to) -> {
            MemorySegment pack = null;
            if (packW) {
                pack = PACK.get();
                if (pack.byteSize() < 4L * jb * kb) PACK.set(pack = Arena.ofAuto().allocate(4L * jb * kb, 64));
            }
            MemorySegment sums = SUMS.get();
            for (int tile = from; tile < to; tile++) tile(x, n, k, w, wf, m, bias, out, jb, kb, tile, pack, sums);
        };
        if ((long) n * m * k < 262_144) task.run(0, tiles);
        else t.parallelFor(tiles, task);
    }

    private static void tile(MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                             MemorySegment bias, MemorySegment out, int jb, int kb, int tile, MemorySegment pack,
                             MemorySegment sums) {
        int j0 = tile * jb;
        int jn = Math.min(jb, m - j0);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < jn; c++) {
                ScalarKernels.set(out, (long) i * m + j0 + c, bias == null ? 0f : ScalarKernels.get(bias, j0 + c));
            }
        }
        for (int k0 = 0; k0 < k; k0 += kb) {
            int kn = Math.min(kb, k - k0);
            MemorySegment ws;
            long wBase, wStride;
            if (pack == null) {
                ws = w;
                wBase = ((long) j0 * k + k0) * 4;
                wStride = (long) k * 4;
            } else {
                for (int c = 0; c < jn; c++) {
                    CpuKernels.convertRow(w, ((long) (j0 + c) * k + k0) * wf.byteSize(), wf, kn, pack, (long) c * kn * 4);
                }
                ws = pack;
                wBase = 0;
                wStride = (long) kn * 4;
            }
            for (int i0 = 0; i0 < n; i0 += MR) {
                for (int c0 = 0; c0 < jn; c0 += NR) {
                    micro(x, n, k, i0, k0, kn, ws, wBase, wStride, c0, jn, out, m, j0, sums);
                }
            }
        }
    }

    /** 4x4 block: out[i0..i0+3, j0+c0..+3] += x[i0.., k0..k0+kn] . w[c0.., k0..]. */
    private static void micro(MemorySegment x, int n, int k, int i0, int k0, int kn,
                              MemorySegment ws, long wBase, long wStride, int c0, int jn,
                              MemorySegment out, int m, int j0, MemorySegment sums) {
        long xr = (long) k * 4, xk = (long) k0 * 4;
        long x0 = i0 * xr + xk, x1 = Math.min(i0 + 1, n - 1) * xr + xk,
                x2 = Math.min(i0 + 2, n - 1) * xr + xk, x3 = Math.min(i0 + 3, n - 1) * xr + xk;
        long w0 = wBase + c0 * wStride, w1 = wBase + Math.min(c0 + 1, jn - 1) * wStride,
                w2 = wBase + Math.min(c0 + 2, jn - 1) * wStride, w3 = wBase + Math.min(c0 + 3, jn - 1) * wStride;
        FloatVector z = FloatVector.zero(FS);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int kv = FS.loopBound(kn);
        int p = 0;
        for (; p < kv; p += L) {
            long b = (long) p * 4;
            FloatVector v0 = VectorOps.f32(ws, w0 + b), v1 = VectorOps.f32(ws, w1 + b),
                    v2 = VectorOps.f32(ws, w2 + b), v3 = VectorOps.f32(ws, w3 + b);
            FloatVector u = VectorOps.f32(x, x0 + b);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = VectorOps.f32(x, x1 + b);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = VectorOps.f32(x, x2 + b);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = VectorOps.f32(x, x3 + b);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        if (p < kn) {
            VectorMask<Float> mk = FS.indexInRange(p, kn);
            long b = (long) p * 4;
            FloatVector v0 = VectorOps.f32(ws, w0 + b, mk), v1 = VectorOps.f32(ws, w1 + b, mk),
                    v2 = VectorOps.f32(ws, w2 + b, mk), v3 = VectorOps.f32(ws, w3 + b, mk);
            FloatVector u = VectorOps.f32(x, x0 + b, mk);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = VectorOps.f32(x, x1 + b, mk);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = VectorOps.f32(x, x2 + b, mk);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = VectorOps.f32(x, x3 + b, mk);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        // the 16 accumulators go through the scratch and are reduced in addSums: with 16 sumLanes inlined here this
        // method passed C2's node-count cutoff, the sumLanes calls stayed out of line and every call boxed the
        // accumulators (16 allocations per call; training's experts with a few tokens run this kernel a lot)
        long v = 4L * L;
        a00.intoMemorySegment(sums, 0, LE); a01.intoMemorySegment(sums, v, LE);
        a02.intoMemorySegment(sums, 2 * v, LE); a03.intoMemorySegment(sums, 3 * v, LE);
        a10.intoMemorySegment(sums, 4 * v, LE); a11.intoMemorySegment(sums, 5 * v, LE);
        a12.intoMemorySegment(sums, 6 * v, LE); a13.intoMemorySegment(sums, 7 * v, LE);
        a20.intoMemorySegment(sums, 8 * v, LE); a21.intoMemorySegment(sums, 9 * v, LE);
        a22.intoMemorySegment(sums, 10 * v, LE); a23.intoMemorySegment(sums, 11 * v, LE);
        a30.intoMemorySegment(sums, 12 * v, LE); a31.intoMemorySegment(sums, 13 * v, LE);
        a32.intoMemorySegment(sums, 14 * v, LE); a33.intoMemorySegment(sums, 15 * v, LE);
        addSums(sums, out, (long) i0 * m + j0 + c0, m, Math.min(MR, n - i0), Math.min(NR, jn - c0));
    }

    /** {@code out[o + r*m + c] += sumLanes(sums[r*NR + c])} for r < rows, c < cols. */
    private static void addSums(MemorySegment sums, MemorySegment out, long o, int m, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                add(out, o + (long) r * m + c, VectorOps.sumLanes(VectorOps.f32(sums, 4L * L * (r * NR + c))));
            }
        }
    }

    private static void add(MemorySegment out, long idx, float sum) {
        ScalarKernels.set(out, idx, ScalarKernels.get(out, idx) + sum);
    }
}

package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias)} for BF16 weights and a few rows ({@code 1 < n < }{@link Gemm#PW}):
 * batched decode, where each step multiplies a handful of token rows by every weight matrix and the weights'
 * bytes, not the FLOPs, set the time. Like the GEMV path, the weights are read straight from their BF16 bytes and
 * widened in registers (no float32 pack is written and read back, which at these n costs more than it saves).
 *
 * <p>Work unit: a group of 4 weight rows (the threads share groups out). Per group, for each block of 4 x rows,
 * a 4x4 register micro-kernel (16 vector accumulators; 4 weight and 4 x loads per 16 FMAs) runs over the whole of
 * {@code k}; the group's 4 weight rows ({@code 8k} bytes) stay in L1/L2 for the later x blocks, so each weight
 * byte comes from memory once per call. Each output is one fixed-order sum (lane sums by
 * {@link VectorOps#sumLanes}), so the result does not depend on the thread count.
 */
final class SmallBatchGemm {
    private SmallBatchGemm() {}

    static final int MR = 4, NR = 4;

    static void bf16(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, int m, MemorySegment bias, MemorySegment out) {
        int groups = (m + NR - 1) / NR;
        CpuThreads.RangeTask task = (from, to) -> {
            for (int g = from; g < to; g++) {
                for (int i0 = 0; i0 < n; i0 += MR) micro(x, n, k, i0, w, m, g * NR, bias, out);
            }
        };
        if ((long) n * m * k < 262_144) task.run(0, groups);
        else t.parallelFor(groups, task);
    }

    /** {@code out[i0..i0+3, j0..j0+3] = bias + x[i0.., :] . w[j0.., :]}; rows past n or m repeat the last (computed, not stored). */
    private static void micro(MemorySegment x, int n, int k, int i0, MemorySegment w, int m, int j0, MemorySegment bias, MemorySegment out) {
        long xr = (long) k * 4, wr = (long) k * 2;
        long x0 = i0 * xr, x1 = Math.min(i0 + 1, n - 1) * xr, x2 = Math.min(i0 + 2, n - 1) * xr, x3 = Math.min(i0 + 3, n - 1) * xr;
        long w0 = j0 * wr, w1 = Math.min(j0 + 1, m - 1) * wr, w2 = Math.min(j0 + 2, m - 1) * wr, w3 = Math.min(j0 + 3, m - 1) * wr;
        FloatVector z = FloatVector.zero(FS);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int kv = FS.loopBound(k);
        int p = 0;
        for (; p < kv; p += L) {
            long xb = (long) p * 4, wb = (long) p * 2;
            FloatVector v0 = VectorOps.bf16(w, w0 + wb), v1 = VectorOps.bf16(w, w1 + wb),
                    v2 = VectorOps.bf16(w, w2 + wb), v3 = VectorOps.bf16(w, w3 + wb);
            FloatVector u = VectorOps.f32(x, x0 + xb);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = VectorOps.f32(x, x1 + xb);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = VectorOps.f32(x, x2 + xb);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = VectorOps.f32(x, x3 + xb);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        if (p < k) {
            VectorMask<Float> mk = FS.indexInRange(p, k);
            long xb = (long) p * 4, wb = (long) p * 2;
            FloatVector v0 = VectorOps.bf16(w, w0 + wb, mk), v1 = VectorOps.bf16(w, w1 + wb, mk),
                    v2 = VectorOps.bf16(w, w2 + wb, mk), v3 = VectorOps.bf16(w, w3 + wb, mk);
            FloatVector u = VectorOps.f32(x, x0 + xb, mk);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = VectorOps.f32(x, x1 + xb, mk);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = VectorOps.f32(x, x2 + xb, mk);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = VectorOps.f32(x, x3 + xb, mk);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        int rows = Math.min(MR, n - i0), cols = Math.min(NR, m - j0);
        long o = (long) i0 * m + j0;
        // reduce here: vectors handed to a call that is not inlined would be boxed (and then boxed in the k loop too)
        storeRow(out, bias, o, j0, cols, VectorOps.sumLanes(a00), VectorOps.sumLanes(a01), VectorOps.sumLanes(a02), VectorOps.sumLanes(a03));
        if (rows > 1) storeRow(out, bias, o + m, j0, cols, VectorOps.sumLanes(a10), VectorOps.sumLanes(a11),
                VectorOps.sumLanes(a12), VectorOps.sumLanes(a13));
        if (rows > 2) storeRow(out, bias, o + 2L * m, j0, cols, VectorOps.sumLanes(a20), VectorOps.sumLanes(a21),
                VectorOps.sumLanes(a22), VectorOps.sumLanes(a23));
        if (rows > 3) storeRow(out, bias, o + 3L * m, j0, cols, VectorOps.sumLanes(a30), VectorOps.sumLanes(a31),
                VectorOps.sumLanes(a32), VectorOps.sumLanes(a33));
    }

    private static void storeRow(MemorySegment out, MemorySegment bias, long o, int j0, int cols, float s0, float s1, float s2, float s3) {
        store(out, bias, o, j0, s0);
        if (cols > 1) store(out, bias, o + 1, j0 + 1, s1);
        if (cols > 2) store(out, bias, o + 2, j0 + 2, s2);
        if (cols > 3) store(out, bias, o + 3, j0 + 3, s3);
    }

    private static void store(MemorySegment out, MemorySegment bias, long idx, int j, float sum) {
        ScalarKernels.set(out, idx, bias == null ? sum : ScalarKernels.get(bias, j) + sum);
    }
}

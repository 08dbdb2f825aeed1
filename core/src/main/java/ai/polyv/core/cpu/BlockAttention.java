package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * One attention head for a block of up to {@link #QB} consecutive queries (prefill, vision windows), in the
 * outer-product form: the vector lanes run over the block's queries, so no lane reduction is needed anywhere.
 * {@link Attention} (one query at a time, lanes over the head dimension) stays the path for a few queries (decode).
 *
 * <ol>
 *   <li>Pack {@code Qt[c][r] = q_r[c]} ({@code [hd, QB]}, zero rows past the block).</li>
 *   <li>Copy this head's key and value rows into contiguous heap arrays (their elements are broadcast one by one).</li>
 *   <li>Scores, transposed: {@code St[j][r] = scale * sum_c k_j[c] Qt[c][r]} (each key element broadcast once for
 *       all {@link #QV} query vectors; 4 keys x {@link #QV} query vectors of accumulators, the c sum in order).</li>
 *   <li>Softmax down each lane (keys in order): keys at or past a query's end are masked to 0 after the exp.</li>
 *   <li>{@code out^T[c][r] = sum_j v_j[c] St[j][r]} (keys in order), 4 columns x {@link #QV} query vectors per pass.</li>
 * </ol>
 * Every output is one fixed-order sum computed by one thread, so the result does not depend on the thread count.
 * Query {@code r} of the block attends keys {@code [k0, ends[r])}; {@code ends} may differ per query (causal) and
 * the keys up to {@code max(ends)} must be finite (a masked key still enters as {@code 0 * v}).
 */
public final class BlockAttention {
    private BlockAttention() {}

    /** Query vectors per block and queries per block. */
    public static final int QV = 4, QB = QV * L;

    /** Per-thread scratch, grown on demand. */
    static final class Scratch {
        float[] qt = new float[0];   // [hd][QB]
        float[] ot = new float[0];   // [hd][QB]
        float[] st = new float[0];   // [keys][QB]
        float[] kh = new float[0];   // [keys][hd]: this head's key rows, contiguous (scalar broadcasts from a heap array)
        float[] vh = new float[0];   // [keys][hd]

        void ensure(int hd, int keys) {
            if (qt.length < hd * QB) {
                qt = new float[hd * QB];
                ot = new float[hd * QB];
            }
            if (st.length < keys * QB) st = new float[keys * QB];
            if (kh.length < keys * hd) {
                kh = new float[keys * hd];
                vh = new float[keys * hd];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Queries {@code r < nq} at element offset {@code qOff + r * qStride} (one head, {@code hd} values) attend keys
     * {@code [k0, ends[r])} of {@code k, v} (row {@code j} at {@code j * kvStride + kvOff}); outputs at
     * {@code outOff + r * qStride}. {@code 1 <= nq <= QB}; every {@code ends[r] > k0}.
     */
    public static void attend(MemorySegment q, long qOff, int qStride, int nq, MemorySegment k, MemorySegment v, int kvStride, int kvOff,
                       int k0, int[] ends, int hd, float scale, MemorySegment out, long outOff) {
        int kEnd = 0;
        for (int r = 0; r < nq; r++) kEnd = Math.max(kEnd, ends[r]);
        int nk = kEnd - k0;
        Scratch sc = SCRATCH.get();
        sc.ensure(hd, nk);
        float[] qt = sc.qt, st = sc.st, ot = sc.ot, kh = sc.kh, vh = sc.vh;
        // 1. Qt [hd][QB]; this head's K and V rows [nk][hd]
        for (int c = 0; c < hd; c++) {
            int row = c * QB;
            for (int r = 0; r < nq; r++) qt[row + r] = ScalarKernels.get(q, qOff + (long) r * qStride + c);
            for (int r = nq; r < QB; r++) qt[row + r] = 0f;
        }
        for (int j = 0; j < nk; j++) {
            long b = ((long) (k0 + j) * kvStride + kvOff) * 4;
            MemorySegment.copy(k, ScalarKernels.F32, b, kh, j * hd, hd);
            MemorySegment.copy(v, ScalarKernels.F32, b, vh, j * hd, hd);
        }
        // 2. St [nk][QB]
        int j = 0;
        for (; j + 4 <= nk; j += 4) scores4(kh, j * hd, hd, qt, scale, st, j * QB);
        for (; j < nk; j++) scores1(kh, j * hd, hd, qt, scale, st, j * QB);
        // 3. softmax down each lane; lanes past their query's end are 0
        int[] endRel = new int[QB];
        for (int r = 0; r < QB; r++) endRel[r] = r < nq ? ends[r] - k0 : 0;
        for (int g = 0; g < QV; g++) softmaxLanes(st, g * L, nk, IntVector.fromArray(VectorOps.IS, endRel, g * L));
        // 4. out^T [hd][QB]
        int c = 0;
        for (; c + 4 <= hd; c += 4) weighted4(vh, c, hd, st, nk, ot, c * QB);
        for (; c < hd; c++) weighted1(vh, c, hd, st, nk, ot, c * QB);
        for (int r = 0; r < nq; r++) {
            long o = outOff + (long) r * qStride;
            for (c = 0; c < hd; c++) ScalarKernels.set(out, o + c, ot[c * QB + r]);
        }
    }

    /** Keys {@code j..j+3} (rows of {@code kh} from {@code kb}): {@code st[at + i*QB + r] = scale * k_{j+i} . q_r}. */
    private static void scores4(float[] kh, int kb, int hd, float[] qt, float scale, float[] st, int at) {
        FloatVector z = FloatVector.zero(FS);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int k1 = kb + hd, k2 = k1 + hd, k3 = k2 + hd;
        for (int c = 0; c < hd; c++) {
            int qa = c * QB;
            FloatVector q0 = FloatVector.fromArray(FS, qt, qa), q1 = FloatVector.fromArray(FS, qt, qa + L),
                    q2 = FloatVector.fromArray(FS, qt, qa + 2 * L), q3 = FloatVector.fromArray(FS, qt, qa + 3 * L);
            FloatVector b = FloatVector.broadcast(FS, kh[kb + c]);
            a00 = b.fma(q0, a00); a01 = b.fma(q1, a01); a02 = b.fma(q2, a02); a03 = b.fma(q3, a03);
            b = FloatVector.broadcast(FS, kh[k1 + c]);
            a10 = b.fma(q0, a10); a11 = b.fma(q1, a11); a12 = b.fma(q2, a12); a13 = b.fma(q3, a13);
            b = FloatVector.broadcast(FS, kh[k2 + c]);
            a20 = b.fma(q0, a20); a21 = b.fma(q1, a21); a22 = b.fma(q2, a22); a23 = b.fma(q3, a23);
            b = FloatVector.broadcast(FS, kh[k3 + c]);
            a30 = b.fma(q0, a30); a31 = b.fma(q1, a31); a32 = b.fma(q2, a32); a33 = b.fma(q3, a33);
        }
        a00.mul(scale).intoArray(st, at); a01.mul(scale).intoArray(st, at + L);
        a02.mul(scale).intoArray(st, at + 2 * L); a03.mul(scale).intoArray(st, at + 3 * L);
        at += QB;
        a10.mul(scale).intoArray(st, at); a11.mul(scale).intoArray(st, at + L);
        a12.mul(scale).intoArray(st, at + 2 * L); a13.mul(scale).intoArray(st, at + 3 * L);
        at += QB;
        a20.mul(scale).intoArray(st, at); a21.mul(scale).intoArray(st, at + L);
        a22.mul(scale).intoArray(st, at + 2 * L); a23.mul(scale).intoArray(st, at + 3 * L);
        at += QB;
        a30.mul(scale).intoArray(st, at); a31.mul(scale).intoArray(st, at + L);
        a32.mul(scale).intoArray(st, at + 2 * L); a33.mul(scale).intoArray(st, at + 3 * L);
    }

    private static void scores1(float[] kh, int kb, int hd, float[] qt, float scale, float[] st, int at) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < hd; c++) {
            int qa = c * QB;
            FloatVector b = FloatVector.broadcast(FS, kh[kb + c]);
            a0 = b.fma(FloatVector.fromArray(FS, qt, qa), a0);
            a1 = b.fma(FloatVector.fromArray(FS, qt, qa + L), a1);
            a2 = b.fma(FloatVector.fromArray(FS, qt, qa + 2 * L), a2);
            a3 = b.fma(FloatVector.fromArray(FS, qt, qa + 3 * L), a3);
        }
        a0.mul(scale).intoArray(st, at);
        a1.mul(scale).intoArray(st, at + L);
        a2.mul(scale).intoArray(st, at + 2 * L);
        a3.mul(scale).intoArray(st, at + 3 * L);
    }

    /** Softmax over keys {@code j < nk} of the lanes {@code st[j*QB + lane .. + L)}; key j of lane r counts if j < end[r]. */
    private static void softmaxLanes(float[] st, int lane, int nk, IntVector end) {
        FloatVector max = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < nk; j++) {
            VectorMask<Float> live = end.compare(VectorOperators.GT, j).cast(FS);
            max = max.blend(max.max(FloatVector.fromArray(FS, st, j * QB + lane)), live);
        }
        // lanes with no key at all (queries past the block) keep max = -inf: give them 0 so exp stays finite
        max = max.blend(0f, max.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
        FloatVector sum = FloatVector.zero(FS), zero = sum;
        for (int j = 0; j < nk; j++) {
            VectorMask<Float> live = end.compare(VectorOperators.GT, j).cast(FS);
            FloatVector e = zero.blend(VectorOps.exp(FloatVector.fromArray(FS, st, j * QB + lane).sub(max)), live);
            e.intoArray(st, j * QB + lane);
            sum = sum.add(e);
        }
        sum = sum.blend(1f, sum.compare(VectorOperators.EQ, 0f));
        for (int j = 0; j < nk; j++) FloatVector.fromArray(FS, st, j * QB + lane).div(sum).intoArray(st, j * QB + lane);
    }

    /** Columns {@code c..c+3} of the value rows {@code vh}: {@code ot[at + i*QB + r] = sum_j v_j[c+i] p[j][r]}, keys in order. */
    private static void weighted4(float[] vh, int c, int hd, float[] st, int nk, float[] ot, int at) {
        FloatVector z = FloatVector.zero(FS);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z,
                a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int j = 0; j < nk; j++) {
            int pa = j * QB, b = j * hd + c;
            FloatVector p0 = FloatVector.fromArray(FS, st, pa), p1 = FloatVector.fromArray(FS, st, pa + L),
                    p2 = FloatVector.fromArray(FS, st, pa + 2 * L), p3 = FloatVector.fromArray(FS, st, pa + 3 * L);
            FloatVector x = FloatVector.broadcast(FS, vh[b]);
            a00 = x.fma(p0, a00); a01 = x.fma(p1, a01); a02 = x.fma(p2, a02); a03 = x.fma(p3, a03);
            x = FloatVector.broadcast(FS, vh[b + 1]);
            a10 = x.fma(p0, a10); a11 = x.fma(p1, a11); a12 = x.fma(p2, a12); a13 = x.fma(p3, a13);
            x = FloatVector.broadcast(FS, vh[b + 2]);
            a20 = x.fma(p0, a20); a21 = x.fma(p1, a21); a22 = x.fma(p2, a22); a23 = x.fma(p3, a23);
            x = FloatVector.broadcast(FS, vh[b + 3]);
            a30 = x.fma(p0, a30); a31 = x.fma(p1, a31); a32 = x.fma(p2, a32); a33 = x.fma(p3, a33);
        }
        a00.intoArray(ot, at); a01.intoArray(ot, at + L); a02.intoArray(ot, at + 2 * L); a03.intoArray(ot, at + 3 * L);
        at += QB;
        a10.intoArray(ot, at); a11.intoArray(ot, at + L); a12.intoArray(ot, at + 2 * L); a13.intoArray(ot, at + 3 * L);
        at += QB;
        a20.intoArray(ot, at); a21.intoArray(ot, at + L); a22.intoArray(ot, at + 2 * L); a23.intoArray(ot, at + 3 * L);
        at += QB;
        a30.intoArray(ot, at); a31.intoArray(ot, at + L); a32.intoArray(ot, at + 2 * L); a33.intoArray(ot, at + 3 * L);
    }

    private static void weighted1(float[] vh, int c, int hd, float[] st, int nk, float[] ot, int at) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < nk; j++) {
            int pa = j * QB;
            FloatVector x = FloatVector.broadcast(FS, vh[j * hd + c]);
            a0 = x.fma(FloatVector.fromArray(FS, st, pa), a0);
            a1 = x.fma(FloatVector.fromArray(FS, st, pa + L), a1);
            a2 = x.fma(FloatVector.fromArray(FS, st, pa + 2 * L), a2);
            a3 = x.fma(FloatVector.fromArray(FS, st, pa + 3 * L), a3);
        }
        a0.intoArray(ot, at);
        a1.intoArray(ot, at + L);
        a2.intoArray(ot, at + 2 * L);
        a3.intoArray(ot, at + 3 * L);
    }
}

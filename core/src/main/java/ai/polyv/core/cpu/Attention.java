package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;
import static ai.polyv.core.cpu.VectorOps.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * One attention head for one query, vectorised: {@code out = softmax(scale * q K^T) V} over keys
 * {@code [k0, k1)}. The callers split (query, head) pairs over the threads; each output row is computed by one
 * thread in a fixed order, so the result does not depend on the thread count or timing.
 *
 * <p>Scores: 4 keys at a time share each load of q; per key, lane-wise partial sums reduced by the fixed
 * {@link VectorOps#sumLanes} butterfly. Softmax: max, then {@link VectorOps#exp} (vector tails are masked, so
 * every key goes through the same exp). Values: keys in order, up to 8 column vectors accumulated at
 * once (each value row is read once, whole); a partial last chunk (hd not a multiple of L) uses 4 accumulators over
 * keys {@code j mod 4}, combined as {@code (a0 + a1) + (a2 + a3)}.
 */
public final class Attention {
    private Attention() {}

    /**
     * {@code out[outOff + c] = sum_j p_j v[j*kvStride + kvOff + c]}, {@code p = softmax_j(scale * q . k_j)} for
     * {@code j in [k0, k1)}, {@code c < hd}. Offsets are in elements; {@code scores} is scratch of at least
     * {@code k1 - k0} floats. No bounds checks beyond the segments' own: the callers check shapes.
     */
    public static void attendHead(MemorySegment q, long qOff, MemorySegment k, MemorySegment v, int kvStride, int kvOff,
                                  int k0, int k1, int hd, float scale, float[] scores, MemorySegment out, long outOff) {
        int nk = k1 - k0;
        scores(q, qOff * 4, k, kvStride, kvOff, k0, k1, hd, scale, scores);
        softmax(scores, nk);
        int hv = FS.loopBound(hd);
        long vs = (long) kvStride * 4, vb = ((long) k0 * kvStride + kvOff) * 4, ob = outOff * 4;
        for (int c = 0; c < hv; c += 8 * L) weighted8(v, vb + c * 4L, vs, scores, nk, Math.min(8, (hv - c) / L), out, ob + c * 4L);
        if (hv < hd) weightedTail(v, vb + hv * 4L, vs, scores, nk, FS.indexInRange(hv, hd), out, ob + hv * 4L);
    }

    /** {@code scores[j - k0] = scale * q . k_j}. */
    private static void scores(MemorySegment q, long qb, MemorySegment k, int kvStride, int kvOff, int k0, int k1,
                               int hd, float scale, float[] scores) {
        int hv = FS.loopBound(hd);
        VectorMask<Float> tail = FS.indexInRange(hv, hd);
        long ks = (long) kvStride * 4;
        int j = k0;
        for (; j + 4 <= k1; j += 4) {
            long b0 = ((long) j * kvStride + kvOff) * 4, b1 = b0 + ks, b2 = b1 + ks, b3 = b2 + ks;
            FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
            int c = 0;
            for (; c < hv; c += L) {
                long d = c * 4L;
                FloatVector qv = VectorOps.f32(q, qb + d);
                a0 = VectorOps.f32(k, b0 + d).fma(qv, a0);
                a1 = VectorOps.f32(k, b1 + d).fma(qv, a1);
                a2 = VectorOps.f32(k, b2 + d).fma(qv, a2);
                a3 = VectorOps.f32(k, b3 + d).fma(qv, a3);
            }
            if (c < hd) {
                long d = c * 4L;
                FloatVector qv = VectorOps.f32(q, qb + d, tail);
                a0 = VectorOps.f32(k, b0 + d, tail).fma(qv, a0);
                a1 = VectorOps.f32(k, b1 + d, tail).fma(qv, a1);
                a2 = VectorOps.f32(k, b2 + d, tail).fma(qv, a2);
                a3 = VectorOps.f32(k, b3 + d, tail).fma(qv, a3);
            }
            scores[j - k0] = VectorOps.sumLanes(a0) * scale;
            scores[j - k0 + 1] = VectorOps.sumLanes(a1) * scale;
            scores[j - k0 + 2] = VectorOps.sumLanes(a2) * scale;
            scores[j - k0 + 3] = VectorOps.sumLanes(a3) * scale;
        }
        for (; j < k1; j++) {
            long b0 = ((long) j * kvStride + kvOff) * 4;
            FloatVector a0 = FloatVector.zero(FS);
            int c = 0;
            for (; c < hv; c += L) a0 = VectorOps.f32(k, b0 + c * 4L).fma(VectorOps.f32(q, qb + c * 4L), a0);
            if (c < hd) a0 = VectorOps.f32(k, b0 + c * 4L, tail).fma(VectorOps.f32(q, qb + c * 4L, tail), a0);
            scores[j - k0] = VectorOps.sumLanes(a0) * scale;
        }
    }

    /** {@code s[0..n) = exp(s - max) / sum} in place. */
    private static void softmax(float[] s, int n) {
        int nv = FS.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, s[j]);
        FloatVector sum = FloatVector.zero(FS);
        int j = 0;
        for (; j < nv; j += L) {
            FloatVector e = VectorOps.exp(FloatVector.fromArray(FS, s, j).sub(max));
            e.intoArray(s, j);
            sum = sum.add(e);
        }
        if (j < n) {
            VectorMask<Float> m = FS.indexInRange(j, n);
            FloatVector e = VectorOps.exp(FloatVector.fromArray(FS, s, j, m).sub(max));
            e.intoArray(s, j, m);
            sum = sum.add(FloatVector.zero(FS).blend(e, m));
        }
        float total = VectorOps.sumLanes(sum);
        for (j = 0; j < nv; j += L) FloatVector.fromArray(FS, s, j).div(total).intoArray(s, j);
        for (; j < n; j++) s[j] = s[j] / total;
    }

    /**
     * Up to 8 full column chunks at once: {@code out[c*L..) = sum_j p[j] v[j][c*L..)} for c < chunks, keys in
     * order, one accumulator per chunk (each value row is read once, whole).
     */
    private static void weighted8(MemorySegment v, long vb, long vs, float[] p, int nk, int chunks, MemorySegment out, long ob) {
        FloatVector o0 = FloatVector.zero(FS), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
        for (int j = 0; j < nk; j++) {
            long b = vb + j * vs;
            FloatVector pj = FloatVector.broadcast(FS, p[j]);
            o0 = VectorOps.f32(v, b).fma(pj, o0);
            if (chunks > 1) o1 = VectorOps.f32(v, b + 4L * L).fma(pj, o1);
            if (chunks > 2) o2 = VectorOps.f32(v, b + 8L * L).fma(pj, o2);
            if (chunks > 3) o3 = VectorOps.f32(v, b + 12L * L).fma(pj, o3);
            if (chunks > 4) o4 = VectorOps.f32(v, b + 16L * L).fma(pj, o4);
            if (chunks > 5) o5 = VectorOps.f32(v, b + 20L * L).fma(pj, o5);
            if (chunks > 6) o6 = VectorOps.f32(v, b + 24L * L).fma(pj, o6);
            if (chunks > 7) o7 = VectorOps.f32(v, b + 28L * L).fma(pj, o7);
        }
        o0.intoMemorySegment(out, ob, LE);
        if (chunks > 1) o1.intoMemorySegment(out, ob + 4L * L, LE);
        if (chunks > 2) o2.intoMemorySegment(out, ob + 8L * L, LE);
        if (chunks > 3) o3.intoMemorySegment(out, ob + 12L * L, LE);
        if (chunks > 4) o4.intoMemorySegment(out, ob + 16L * L, LE);
        if (chunks > 5) o5.intoMemorySegment(out, ob + 20L * L, LE);
        if (chunks > 6) o6.intoMemorySegment(out, ob + 24L * L, LE);
        if (chunks > 7) o7.intoMemorySegment(out, ob + 28L * L, LE);
    }

    /** The last, partial column chunk (hd not a multiple of L) (masked loads and store). */
    private static void weightedTail(MemorySegment v, long vb, long vs, float[] p, int nk, VectorMask<Float> m,
                                 MemorySegment out, long ob) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j + 4 <= nk; j += 4) {
            long b = vb + j * vs;
            a0 = VectorOps.f32(v, b, m).fma(FloatVector.broadcast(FS, p[j]), a0);
            a1 = VectorOps.f32(v, b + vs, m).fma(FloatVector.broadcast(FS, p[j + 1]), a1);
            a2 = VectorOps.f32(v, b + 2 * vs, m).fma(FloatVector.broadcast(FS, p[j + 2]), a2);
            a3 = VectorOps.f32(v, b + 3 * vs, m).fma(FloatVector.broadcast(FS, p[j + 3]), a3);
        }
        for (; j < nk; j++) a0 = VectorOps.f32(v, vb + j * vs, m).fma(FloatVector.broadcast(FS, p[j]), a0);
        a0.add(a1).add(a2.add(a3)).intoMemorySegment(out, ob, LE, m);
    }
}

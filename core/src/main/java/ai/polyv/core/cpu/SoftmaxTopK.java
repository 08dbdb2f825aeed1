package ai.polyv.core.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The CPU router's row: softmax then top-k in float32, the order of operations of PyTorch's float32 path
 * (max, exp, sum, divide; docs/spec.md §2 "Sparse MoE FFN": {@code p = softmax(float32(logits))}). A kernel,
 * not a reference: {@code ReferenceOps.softmaxTopK} states the same op under the references' accumulation rule
 * (double), and the tests compare the two (ids exactly, weights within float32 rounding).
 */
public final class SoftmaxTopK {
    private SoftmaxTopK() {}

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One row: the F32 logits at {@code x[off, off+m)} go through softmax, then k passes of arg-max (ties to the
     * lower index); writes {@code ids[o, o+k)} and {@code ws[o, o+k)}. {@code p [m]} and {@code taken [m]} are
     * scratch. The CPU backend runs rows on its threads.
     */
    public static void row(MemorySegment x, long off, int m, int k, boolean renormalize, float[] p, boolean[] taken, int[] ids,
                           float[] ws, int o) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < m; e++) max = Math.max(max, x.getAtIndex(F32, off + e));
        float sum = 0f;
        for (int e = 0; e < m; e++) {
            p[e] = (float) Math.exp(x.getAtIndex(F32, off + e) - max);
            sum += p[e];
        }
        for (int e = 0; e < m; e++) p[e] /= sum;
        java.util.Arrays.fill(taken, false);
        float wsum = 0f;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < m; e++) {
                if (!taken[e] && (best < 0 || p[e] > p[best])) best = e; // strict >: ties keep the lower index
            }
            taken[best] = true;
            ids[o + j] = best;
            ws[o + j] = p[best];
            wsum += p[best];
        }
        if (renormalize) {
            for (int j = 0; j < k; j++) ws[o + j] /= wsum;
        }
    }
}

package ai.polyv.cuda;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Host-side index preparation for the row kernels, kept apart from the launches so it can be tested
 * without a GPU: range checks, last-write-wins for repeated scatter rows, distinctness for the
 * scatter-add kernel choice, and per-row key ranges for segment attention.
 */
final class RowPlans {
    private RowPlans() {}

    /** A row copy {@code dst[dstRows[i]] = src[srcRows[i]]}; a null array means the identity. */
    record Copy(int[] srcRows, int[] dstRows) {
        int count() {
            return dstRows != null ? dstRows.length : srcRows.length;
        }
    }

    /**
     * {@code out[index[i]] = src[i]} in order of {@code i}, as a copy with distinct destinations: where a
     * row is written more than once only its last write is kept (what the in-order CPU loop leaves).
     */
    static Copy scatter(int[] index, int rows) {
        BitSet seen = new BitSet(rows);
        int[] src = new int[index.length], dst = new int[index.length];
        int count = 0;
        for (int i = index.length - 1; i >= 0; i--) {
            if (seen.get(index[i])) continue;
            seen.set(index[i]);
            src[count] = i;
            dst[count++] = index[i];
        }
        if (count == index.length) return new Copy(null, index);
        // keep ascending source order (cosmetic: the destinations are distinct, so order does not matter)
        int[] s = Arrays.copyOf(src, count), d = Arrays.copyOf(dst, count);
        for (int a = 0, b = count - 1; a < b; a++, b--) {
            int t = s[a]; s[a] = s[b]; s[b] = t;
            t = d[a]; d[a] = d[b]; d[b] = t;
        }
        return new Copy(s, d);
    }

    /** Whether no row repeats in {@code index} (values in {@code [0, rows)}). */
    static boolean distinct(int[] index, int rows) {
        BitSet seen = new BitSet(rows);
        for (int r : index) {
            if (seen.get(r)) return false;
            seen.set(r);
        }
        return true;
    }

    /** Row {@code i} of {@code n} attends to keys {@code [start[i], end[i])}: its segment of {@code cuSeqlens}. */
    record KeyRanges(int[] start, int[] end) {}

    static KeyRanges segments(int[] cuSeqlens, int n) {
        if (cuSeqlens.length < 1 || cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != n) {
            throw new IllegalArgumentException("attentionSegments: cuSeqlens must run from 0 to " + n + ", got " + Arrays.toString(cuSeqlens));
        }
        int[] start = new int[n], end = new int[n];
        for (int s = 0; s + 1 < cuSeqlens.length; s++) {
            if (cuSeqlens[s + 1] < cuSeqlens[s]) throw new IllegalArgumentException("attentionSegments: cuSeqlens decreases at " + (s + 1) + ": " + Arrays.toString(cuSeqlens));
            for (int i = cuSeqlens[s]; i < cuSeqlens[s + 1]; i++) {
                start[i] = cuSeqlens[s];
                end[i] = cuSeqlens[s + 1];
            }
        }
        return new KeyRanges(start, end);
    }
}

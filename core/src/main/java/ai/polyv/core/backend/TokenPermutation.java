package ai.polyv.core.backend;

/**
 * MoE stage 2: groups the (token, slot) assignments of a routing by expert. Order is defined: experts
 * ascending, and inside an expert the assignments are stable by token index (then slot). An expert that
 * received no token has an empty range.
 *
 * @param offsets {@code [M+1]}: expert e owns entries {@code [offsets[e], offsets[e+1])}
 * @param tokens  {@code [n*k]}: token row of each entry
 * @param weights {@code [n*k]}: router weight of each entry
 */
public record TokenPermutation(int[] offsets, int[] tokens, float[] weights) {

    public static TokenPermutation of(int n, int k, int numExperts, int[] ids, float[] w) {
        int[] counts = new int[numExperts + 1];
        for (int i = 0; i < n * k; i++) {
            if (ids[i] < 0 || ids[i] >= numExperts) throw new IllegalArgumentException("expert id " + ids[i] + " outside [0, " + numExperts + ")");
            counts[ids[i] + 1]++;
        }
        for (int e = 0; e < numExperts; e++) counts[e + 1] += counts[e];
        int[] offsets = counts.clone();
        int[] fill = counts.clone();
        int[] tokens = new int[n * k];
        float[] weights = new float[n * k];
        for (int t = 0; t < n; t++) {                 // token-major scan keeps each expert stable by token
            for (int j = 0; j < k; j++) {
                int e = ids[t * k + j], at = fill[e]++;
                tokens[at] = t;
                weights[at] = w[t * k + j];
            }
        }
        return new TokenPermutation(offsets, tokens, weights);
    }

    /**
     * The inverse map {@code [n*k]}: the entry of assignment {@code a = t*k + j} (same order as
     * {@link #of}), so {@code tokens[pos[a]] == a / k} and {@code weights[pos[a]] == w[a]}. The CUDA
     * combine reads expert outputs through it.
     */
    public static int[] positions(int n, int k, int numExperts, int[] ids) {
        int[] fill = new int[numExperts + 1];
        for (int i = 0; i < n * k; i++) {
            if (ids[i] < 0 || ids[i] >= numExperts) throw new IllegalArgumentException("expert id " + ids[i] + " outside [0, " + numExperts + ")");
            fill[ids[i] + 1]++;
        }
        for (int e = 0; e < numExperts; e++) fill[e + 1] += fill[e];
        int[] pos = new int[n * k];
        for (int a = 0; a < n * k; a++) pos[a] = fill[ids[a]]++;
        return pos;
    }

    public int numExperts() {
        return offsets.length - 1;
    }

    public int count(int expert) {
        return offsets[expert + 1] - offsets[expert];
    }

    public int[] tokensOf(int expert) {
        return java.util.Arrays.copyOfRange(tokens, offsets[expert], offsets[expert + 1]);
    }

    public float[] weightsOf(int expert) {
        return java.util.Arrays.copyOfRange(weights, offsets[expert], offsets[expert + 1]);
    }
}

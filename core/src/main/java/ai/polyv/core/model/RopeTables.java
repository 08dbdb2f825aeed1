package ai.polyv.core.model;

/**
 * cos/sin tables for the rotate-half rotary embeddings, computed the way PyTorch does in float32
 * (float32 inverse frequencies, float32 angle = position * inv_freq, then cos/sin rounded to float).
 */
public final class RopeTables {
    private RopeTables() {}

    /** {@code inv_freq[i] = 1 / base^(2i/dim)} for {@code i < dim/2}, float32 as torch computes it. */
    public static float[] inverseFrequencies(double base, int dim) {
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) {
            float e = (float) (2 * i) / (float) dim;
            f[i] = 1.0f / (float) Math.pow(base, e);
        }
        return f;
    }

    /**
     * Vision 2-D RoPE: for patch r at (row, col): angles {@code [row*f, col*f]} (head_dim/2 values,
     * f over head_dim/4 frequencies of base 10000 and dim head_dim/2), duplicated to head_dim.
     * Output {@code cos, sin [n, headDim]} flattened.
     */
    public static void vision(int[] rows, int[] cols, int headDim, float[] cos, float[] sin) {
        float[] f = inverseFrequencies(10000.0, headDim / 2);   // headDim/4 values
        int q = f.length, half = headDim / 2;
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i < q; i++) {
                put(r, i, (float) rows[r] * f[i], headDim, half, cos, sin);
                put(r, q + i, (float) cols[r] * f[i], headDim, half, cos, sin);
            }
        }
    }

    /**
     * M-RoPE: frequency i (< head_dim/2) takes its angle from axis j of the section containing i
     * ({@code section} [t, h, w]); {@code pos [3][n]}. Output {@code cos, sin [n, headDim]}.
     */
    public static void mrope(long[][] pos, int from, int n, double theta, int[] section, int headDim, float[] cos, float[] sin) {
        float[] f = inverseFrequencies(theta, headDim);
        int half = headDim / 2;
        int[] axis = new int[half];
        for (int i = 0, j = 0, acc = section[0]; i < half; i++) {
            while (i >= acc) acc += section[++j];
            axis[i] = j;
        }
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < half; i++) put(r, i, (float) pos[axis[i]][from + r] * f[i], headDim, half, cos, sin);
        }
    }

    private static void put(int r, int i, float angle, int headDim, int half, float[] cos, float[] sin) {
        float c = (float) Math.cos(angle), s = (float) Math.sin(angle);
        cos[r * headDim + i] = c;
        cos[r * headDim + half + i] = c;
        sin[r * headDim + i] = s;
        sin[r * headDim + half + i] = s;
    }
}

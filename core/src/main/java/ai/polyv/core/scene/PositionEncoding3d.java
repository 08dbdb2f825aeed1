package ai.polyv.core.scene;

/**
 * PolyV's 3D positional encoding (docs/spec.md §2, eq. 12), scalar double-precision reference
 * (it runs once per input, cost is negligible next to the vision tower).
 *
 * <p>For view v with depth {@code D[H,W]} (metres, 0 = invalid), intrinsics K and camera-to-world
 * pose B: {@code p_cam(i,j) = D[i,j] * K^-1 [j, i, 1]^T}, {@code p_world = (B [p_cam; 1])[0:3]} with
 * integer pixel indices (i = row, j = column). A merged token covers {@code temporalPatch} (2)
 * consecutive views x {@code mergePixels x mergePixels} (28x28) pixels; its xyz is the mean of
 * p_world over its valid pixels (0 when none). Tokens are ordered (view pair, block row, block
 * column), which is the merger's output order. The encoding of width Dm uses
 * {@code n = floor(Dm/6)}, {@code w_k = base^(-k/n)}:
 * {@code [sin(x w), cos(x w), sin(y w), cos(y w), sin(z w), cos(z w), zeros(Dm - 6n)]}.
 */
public final class PositionEncoding3d {

    private PositionEncoding3d() {}

    /**
     * Mean world position per merged token.
     *
     * @param depth      {@code [views, h, w]} metres, 0 = invalid
     * @param intrinsics {@code [views][9]} row-major 3x3 K
     * @param poses      {@code [views][16]} row-major 4x4 camera-to-world
     * @return {@code [views/temporalPatch * h/mergePixels * w/mergePixels, 3]}
     */
    public static double[] tokenXyz(float[] depth, int views, int h, int w, double[][] intrinsics, double[][] poses,
                                    int mergePixels, int temporalPatch) {
        if (views % temporalPatch != 0) throw new IllegalArgumentException("view count " + views + " is not a multiple of " + temporalPatch);
        if (h % mergePixels != 0 || w % mergePixels != 0) {
            throw new IllegalArgumentException("depth size " + h + "x" + w + " is not a multiple of " + mergePixels);
        }
        if (depth.length != views * h * w) throw new IllegalArgumentException("depth has " + depth.length + " values, expected " + views + "x" + h + "x" + w);
        if (intrinsics.length != views || poses.length != views) {
            throw new IllegalArgumentException("need one intrinsics and one pose per view (" + views + "), got " + intrinsics.length + " and " + poses.length);
        }
        int bh = h / mergePixels;
        int bw = w / mergePixels;
        int tokens = views / temporalPatch * bh * bw;
        double[] sum = new double[tokens * 3]; // [tokens, 3]
        long[] count = new long[tokens];
        for (int v = 0; v < views; v++) {
            double[] kInv = invert3x3(intrinsics[v]);
            double[] b = poses[v];
            if (b.length != 16) throw new IllegalArgumentException("pose of view " + v + " has " + b.length + " values, expected 16");
            int tBase = v / temporalPatch * bh * bw;
            for (int i = 0; i < h; i++) {
                int rowTok = tBase + (i / mergePixels) * bw;
                for (int j = 0; j < w; j++) {
                    double d = depth[(v * h + i) * w + j];
                    if (!(d > 0)) continue;
                    // p_cam = d * K^-1 [j, i, 1]
                    double cx = d * (kInv[0] * j + kInv[1] * i + kInv[2]);
                    double cy = d * (kInv[3] * j + kInv[4] * i + kInv[5]);
                    double cz = d * (kInv[6] * j + kInv[7] * i + kInv[8]);
                    int tok = rowTok + j / mergePixels;
                    sum[tok * 3] += b[0] * cx + b[1] * cy + b[2] * cz + b[3];
                    sum[tok * 3 + 1] += b[4] * cx + b[5] * cy + b[6] * cz + b[7];
                    sum[tok * 3 + 2] += b[8] * cx + b[9] * cy + b[10] * cz + b[11];
                    count[tok]++;
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < 3; c++) sum[t * 3 + c] = count[t] > 0 ? sum[t * 3 + c] / count[t] : 0.0;
        }
        return sum;
    }

    /**
     * Sin/cos encoding.
     *
     * @param xyz {@code [tokens, 3]}
     * @return {@code [tokens, dim]}
     */
    public static float[] encode(double[] xyz, int dim, double base) {
        if (xyz.length % 3 != 0) throw new IllegalArgumentException("xyz length " + xyz.length + " is not a multiple of 3");
        int n = dim / 6;
        if (n == 0) throw new IllegalArgumentException("encoding width " + dim + " is below 6");
        int tokens = xyz.length / 3;
        double[] freq = new double[n];
        for (int k = 0; k < n; k++) freq[k] = Math.pow(base, -(double) k / n);
        float[] pe = new float[tokens * dim];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < 3; c++) {
                double x = xyz[t * 3 + c];
                int off = t * dim + c * 2 * n;
                for (int k = 0; k < n; k++) {
                    pe[off + k] = (float) Math.sin(x * freq[k]);
                    pe[off + n + k] = (float) Math.cos(x * freq[k]);
                }
            }
            // remaining dim - 6n columns stay 0
        }
        return pe;
    }

    /** Inverse of a row-major 3x3 matrix (adjugate / determinant). */
    static double[] invert3x3(double[] m) {
        if (m.length != 9) throw new IllegalArgumentException("intrinsics have " + m.length + " values, expected 9 (3x3)");
        double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
        double c0 = e * i - f * h;
        double c1 = -(d * i - f * g);
        double c2 = d * h - e * g;
        double det = a * c0 + b * c1 + c * c2;
        if (!(Math.abs(det) > 1e-12) || !Double.isFinite(det)) throw new IllegalArgumentException("intrinsics matrix is singular (det " + det + ")");
        return new double[] {
                c0 / det, -(b * i - c * h) / det, (b * f - c * e) / det,
                c1 / det, (a * i - c * g) / det, -(a * f - c * d) / det,
                c2 / det, -(a * h - b * g) / det, (a * e - b * d) / det,
        };
    }
}

package ai.polyv.cuda.kernels;

/**
 * A host emulation of the three warp-level tensor-core instructions the PolyV kernels use, written from
 * the PTX ISA fragment tables, so that the kernels' index arithmetic (ldmatrix lane addresses, the XOR
 * swizzle, the padded attention tiles, the accumulator-to-A-fragment reuse) can be checked without a GPU.
 * Registers hold two bf16 halves; here a register is {@code float[2]} = {lo, hi}.
 */
final class WarpEmulator {
    private WarpEmulator() {}

    /**
     * {@code ldmatrix.sync.aligned.m8n8.x4[.trans].b16}: lane {@code l} supplies the element offset of row
     * {@code l % 8} of matrix {@code l / 8}. Without .trans thread t receives (row t/4, cols 2(t%4), +1) of
     * each matrix; with .trans (rows 2(t%4), +1; col t/4).
     *
     * @return {@code [lane][matrix][half]}
     */
    static float[][][] ldmatrixX4(float[] smem, int[] laneOffset, boolean trans) {
        float[][][] r = new float[32][4][2];
        for (int t = 0; t < 32; t++) {
            for (int m = 0; m < 4; m++) {
                for (int h = 0; h < 2; h++) {
                    int row = trans ? 2 * (t % 4) + h : t / 4;
                    int col = trans ? t / 4 : 2 * (t % 4) + h;
                    r[t][m][h] = smem[laneOffset[m * 8 + row] + col];
                }
            }
        }
        return r;
    }

    /**
     * {@code mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32}: {@code c[lane][4] += A * B} with
     * a[lane][4 regs][2], b[lane][2 regs][2] in the PTX fragment layouts (g = lane/4, t = lane%4):
     * A a0:(g, 2t..) a1:(g+8, 2t..) a2:(g, 2t+8..) a3:(g+8, 2t+8..); B b0:(k=2t.., n=g) b1:(k=2t+8.., n=g);
     * C c0,c1:(g, 2t..) c2,c3:(g+8, 2t..).
     */
    static void mma16816(float[][] c, float[][][] a, float[][][] b) {
        float[][] am = new float[16][16], bm = new float[16][8];
        for (int l = 0; l < 32; l++) {
            int g = l / 4, t = l % 4;
            for (int h = 0; h < 2; h++) {
                am[g][2 * t + h] = a[l][0][h];
                am[g + 8][2 * t + h] = a[l][1][h];
                am[g][2 * t + 8 + h] = a[l][2][h];
                am[g + 8][2 * t + 8 + h] = a[l][3][h];
                bm[2 * t + h][g] = b[l][0][h];
                bm[2 * t + 8 + h][g] = b[l][1][h];
            }
        }
        for (int l = 0; l < 32; l++) {
            int g = l / 4, t = l % 4;
            for (int q = 0; q < 4; q++) {
                int row = g + (q >= 2 ? 8 : 0), col = 2 * t + (q & 1);
                float s = 0f;
                for (int kk = 0; kk < 16; kk++) s += am[row][kk] * bm[kk][col];
                c[l][q] += s;
            }
        }
    }

    /** The registers {@code {r0, r1}} of every lane taken from an x4 result, as one B operand. */
    static float[][][] pick(float[][][] x4, int m0, int m1) {
        float[][][] b = new float[32][2][];
        for (int l = 0; l < 32; l++) {
            b[l][0] = x4[l][m0];
            b[l][1] = x4[l][m1];
        }
        return b;
    }
}

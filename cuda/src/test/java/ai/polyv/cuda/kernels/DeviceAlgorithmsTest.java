package ai.polyv.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import ai.polyv.core.backend.TokenPermutation;

/**
 * Host mirrors of the device algorithms in kernels/src/main/cuda (no GPU here). Each mirror copies the
 * kernel's index arithmetic by hand (keep them in sync when a kernel changes) and checks it against the
 * plain Java reference; {@link WarpEmulator} stands in for ldmatrix and mma.sync. What this does NOT
 * check: memory ordering, cp.async timing, barriers, real rounding of the hardware - see the GPU test.
 */
class DeviceAlgorithmsTest {

    // ------------------------------------------------------------------ moe_align_v2
    /** Mirror of moe_align_v2: chunks of 1024 threads, warp match_any + popc rank, scan over warps in warp order. */
    static int[][] alignV2(int[] ids, float[] w, int k, int m) {
        int n = ids.length, warps = 32;
        int[] count = new int[m], offsets = new int[m + 1], carry = new int[m];
        for (int id : ids) count[id]++;
        for (int e = 0, run = 0; e < m; e++) {
            offsets[e] = run;
            carry[e] = run;
            run += count[e];
            offsets[m] = run;
        }
        int[] permToken = new int[n], pos = new int[n];
        for (int base = 0; base < n; base += 1024) {
            int[][] sWarp = new int[warps][m];
            int[] rank = new int[1024], exp = new int[1024];
            for (int warp = 0; warp < warps; warp++) {
                for (int lane = 0; lane < 32; lane++) {
                    int tid = warp * 32 + lane, a = base + tid;
                    exp[tid] = a < n ? ids[a] : -1;
                }
                for (int lane = 0; lane < 32; lane++) {
                    int tid = warp * 32 + lane, same = 0;
                    for (int o = 0; o < 32; o++) if (exp[warp * 32 + o] == exp[tid]) same |= 1 << o;  // __match_any_sync
                    rank[tid] = Integer.bitCount(same & ((1 << lane) - 1));
                    if (exp[tid] >= 0 && rank[tid] == 0) sWarp[warp][exp[tid]] = Integer.bitCount(same);
                }
            }
            for (int e = 0; e < m; e++) {
                int run = carry[e];
                for (int wi = 0; wi < warps; wi++) {
                    int c = sWarp[wi][e];
                    sWarp[wi][e] = run;
                    run += c;
                }
                carry[e] = run;
            }
            for (int tid = 0; tid < 1024; tid++) {
                int a = base + tid;
                if (a < n) {
                    int p = sWarp[tid / 32][exp[tid]] + rank[tid];
                    permToken[p] = a / k;
                    pos[a] = p;
                }
            }
        }
        return new int[][] {offsets, permToken, pos};
    }

    @Test
    void alignMirrorEqualsTheStableJavaPermutation() {
        Random r = new Random(11);
        int[][] cases = {{1, 1, 1}, {1, 2, 4}, {7, 2, 5}, {513, 2, 4}, {1031, 3, 7}, {4096, 2, 4}, {600, 4, 64}};
        for (int[] c : cases) {
            int tokens = c[0], k = c[1], m = c[2];
            for (int variant = 0; variant < 3; variant++) {
                int[] ids = new int[tokens * k];
                for (int t = 0; t < tokens; t++) {
                    // distinct experts per token (top-k); variant 1: expert 0 never used; variant 2: always experts 0..k-1
                    Set<Integer> used = new HashSet<>();
                    for (int j = 0; j < k; j++) {
                        int e;
                        do {
                            e = variant == 2 ? j : (variant == 1 && m > k ? 1 + r.nextInt(m - 1) : r.nextInt(m));
                        } while (!used.add(e));
                        ids[t * k + j] = e;
                    }
                }
                float[] w = new float[ids.length];
                for (int i = 0; i < w.length; i++) w[i] = i;
                TokenPermutation want = TokenPermutation.of(tokens, k, m, ids, w);
                int[][] got = alignV2(ids, w, k, m);
                String what = tokens + "x" + k + " over " + m + " variant " + variant;
                assertArrayEquals(want.offsets(), got[0], what);
                assertArrayEquals(want.tokens(), got[1], what);
                assertArrayEquals(TokenPermutation.positions(tokens, k, m, ids), got[2], what);
            }
        }
    }

    // ------------------------------------------------------------------ expert_ffn tile scheduling
    @Test
    void groupedGemmTilesCoverEveryEntryOnceInsideOneExpert() {
        Random r = new Random(3);
        int[][] countsCases = {{0, 0, 0, 1}, {300, 0, 129, 128}, {8192, 0, 0, 0}, {1, 1, 1, 1}, {127, 128, 255, 256, 0, 3}};
        for (int[] counts : countsCases) {
            int m = counts.length;
            int[] offsets = new int[m + 1];
            for (int e = 0; e < m; e++) offsets[e + 1] = offsets[e] + counts[e];
            int n = offsets[m], grid = (n + 127) / 128 + m;          // ExpertFfnKernel's grid x
            int[] covered = new int[n];
            for (int bx = 0; bx < grid; bx++) {                      // mirror of find_tile
                int tile = bx;
                for (int e = 0; e < m; e++) {
                    int cnt = offsets[e + 1] - offsets[e], tiles = (cnt + 127) / 128;
                    if (tile < tiles) {
                        int row0 = offsets[e] + tile * 128, rows = Math.min(128, cnt - tile * 128);
                        for (int i = 0; i < rows; i++) {
                            covered[row0 + i]++;
                            assertTrue(row0 + i < offsets[e + 1]);
                        }
                        break;
                    }
                    tile -= tiles;
                }
            }
            for (int i = 0; i < n; i++) assertEquals(1, covered[i], "entry " + i + " of counts " + java.util.Arrays.toString(counts));
        }
        assertTrue(r != null);
    }

    // ------------------------------------------------------------------ expert_ffn mma addressing
    static int swz(int row, int chunk) {
        return row * 32 + ((chunk ^ ((row >> 1) & 3)) << 3);
    }

    @Test
    void swizzleIsABijectionAndConflictFreeForLdmatrix() {
        for (int row = 0; row < 128; row++) {
            Set<Integer> seen = new HashSet<>();
            for (int c = 0; c < 4; c++) seen.add(swz(row, c));
            assertEquals(4, seen.size());
        }
        // one ldmatrix phase = 8 lanes = 8 consecutive rows at one logical chunk: 8 different 16-byte bank groups
        for (int r0 = 0; r0 < 128; r0 += 8) {
            for (int c = 0; c < 4; c++) {
                Set<Integer> groups = new HashSet<>();
                for (int i = 0; i < 8; i++) groups.add((swz(r0 + i, c) * 2 / 16) % 8);
                assertEquals(8, groups.size(), "rows " + r0 + ".. chunk " + c);
            }
        }
        // attention tiles: rows padded to hd + 8 elements
        for (int hd : new int[] {64, 80, 128}) {
            for (int c = 0; c < hd / 8; c++) {
                Set<Integer> groups = new HashSet<>();
                for (int i = 0; i < 8; i++) groups.add(((i * (hd + 8) + c * 8) * 2 / 16) % 8);
                assertEquals(8, groups.size(), "hd " + hd);
            }
        }
    }

    /**
     * One CTA k-tile of grouped_mma (gate_up and down variants): fills the swizzled shared tiles the way
     * load_stage does, then runs every warp's ldmatrix / mma sequence through the emulator and checks the
     * accumulators against a direct product, using the kernel's epilogue row/column formulas.
     */
    @Test
    void groupedGemmFragmentsComputeTheRightProduct() {
        Random r = new Random(5);
        for (boolean dual : new boolean[] {false, true}) {
            float[][] a = new float[128][32], b = new float[128][32];   // A [rows][k], B smem rows [n][k]
            float[] sA = new float[128 * 32], sB = new float[128 * 32];
            for (int row = 0; row < 128; row++) {
                for (int kk = 0; kk < 32; kk++) {
                    a[row][kk] = r.nextInt(7) - 3;
                    b[row][kk] = r.nextInt(7) - 3;
                    sA[swz(row, kk / 8) + kk % 8] = a[row][kk];
                    sB[swz(row, kk / 8) + kk % 8] = b[row][kk];
                }
            }
            for (int warp = 0; warp < 8; warp++) {
                int warpM = warp >> 2, warpN = warp & 3;
                float[][][][] acc = new float[4][4][32][4];
                for (int kk = 0; kk < 2; kk++) {
                    float[][][][] af = new float[4][][][];
                    for (int mi = 0; mi < 4; mi++) {
                        int[] off = new int[32];
                        for (int lane = 0; lane < 32; lane++) off[lane] = swz(warpM * 64 + mi * 16 + (lane & 15), kk * 2 + (lane >> 4));
                        af[mi] = WarpEmulator.ldmatrixX4(sA, off, false);
                    }
                    float[][][][] bf = new float[4][][][];
                    for (int p = 0; p < 2; p++) {
                        int nb = dual ? (p == 0 ? warpN * 16 : 64 + warpN * 16) : warpN * 32 + p * 16;
                        int[] off = new int[32];
                        for (int lane = 0; lane < 32; lane++) off[lane] = swz(nb + (lane & 7) + ((lane >> 4) << 3), kk * 2 + ((lane >> 3) & 1));
                        float[][][] x4 = WarpEmulator.ldmatrixX4(sB, off, false);
                        bf[2 * p] = WarpEmulator.pick(x4, 0, 1);
                        bf[2 * p + 1] = WarpEmulator.pick(x4, 2, 3);
                    }
                    for (int mi = 0; mi < 4; mi++) for (int ni = 0; ni < 4; ni++) WarpEmulator.mma16816(acc[mi][ni], af[mi], bf[ni]);
                }
                for (int lane = 0; lane < 32; lane++) {
                    int g = lane >> 2, t4 = lane & 3;
                    for (int mi = 0; mi < 4; mi++) {
                        for (int half = 0; half < 2; half++) {
                            int row = warpM * 64 + mi * 16 + g + half * 8;
                            for (int ni = 0; ni < 4; ni++) {
                                // epilogue columns: single: warp_n*32 + ni*8 + 2t; dual: gate ni<2 at smem row warp_n*16 + ni*8 + 2t,
                                // up ni>=2 at smem row 64 + warp_n*16 + (ni-2)*8 + 2t
                                int col = dual ? (ni < 2 ? warpN * 16 + ni * 8 : 64 + warpN * 16 + (ni - 2) * 8) + 2 * t4
                                               : warpN * 32 + ni * 8 + 2 * t4;
                                for (int c = 0; c < 2; c++) {
                                    float want = 0f;
                                    for (int kk = 0; kk < 32; kk++) want += a[row][kk] * b[col + c][kk];
                                    assertEquals(want, acc[mi][ni][lane][2 * half + c], "dual=" + dual + " row " + row + " col " + (col + c));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ window_attention fragments
    /**
     * One warp of flash_varlen for one 64-key tile: Q fragments from the padded tile, S = Q K^T, P taken
     * straight from the S accumulators as the A operand, O = P V with ldmatrix.trans; checked against
     * direct products (P = S here, no softmax: the fragment plumbing is what is tested).
     */
    @Test
    void attentionFragmentsComputeQkAndPv() {
        Random r = new Random(9);
        for (int hd : new int[] {64, 80, 128}) {
            int lds = hd + 8, warp = 2;
            float[][] qm = new float[64][hd], km = new float[64][hd], vm = new float[64][hd];
            float[] sQ = new float[64 * lds], sK = new float[64 * lds], sV = new float[64 * lds];
            for (int i = 0; i < 64; i++) {
                for (int d = 0; d < hd; d++) {
                    qm[i][d] = r.nextInt(5) - 2;
                    km[i][d] = r.nextInt(5) - 2;
                    vm[i][d] = r.nextInt(5) - 2;
                    sQ[i * lds + d] = qm[i][d];
                    sK[i * lds + d] = km[i][d];
                    sV[i * lds + d] = vm[i][d];
                }
            }
            float[][][][] qf = new float[hd / 16][][][];
            for (int ks = 0; ks < hd / 16; ks++) {
                int[] off = new int[32];
                for (int lane = 0; lane < 32; lane++) off[lane] = (warp * 16 + (lane & 15)) * lds + ks * 16 + (lane >> 4) * 8;
                qf[ks] = WarpEmulator.ldmatrixX4(sQ, off, false);
            }
            float[][][] s = new float[8][32][4];
            for (int ks = 0; ks < hd / 16; ks++) {
                for (int p = 0; p < 4; p++) {
                    int[] off = new int[32];
                    for (int lane = 0; lane < 32; lane++) off[lane] = (p * 16 + (lane & 7) + ((lane >> 4) << 3)) * lds + ks * 16 + ((lane >> 3) & 1) * 8;
                    float[][][] x4 = WarpEmulator.ldmatrixX4(sK, off, false);
                    WarpEmulator.mma16816(s[2 * p], qf[ks], WarpEmulator.pick(x4, 0, 1));
                    WarpEmulator.mma16816(s[2 * p + 1], qf[ks], WarpEmulator.pick(x4, 2, 3));
                }
            }
            float[][] sFull = new float[16][64];
            for (int lane = 0; lane < 32; lane++) {
                int g = lane >> 2, t4 = lane & 3;
                for (int n = 0; n < 8; n++) {
                    for (int c = 0; c < 2; c++) {
                        float want = 0f, want8 = 0f;
                        for (int d = 0; d < hd; d++) {
                            want += qm[warp * 16 + g][d] * km[n * 8 + 2 * t4 + c][d];
                            want8 += qm[warp * 16 + g + 8][d] * km[n * 8 + 2 * t4 + c][d];
                        }
                        assertEquals(want, s[n][lane][c], "S hd " + hd);
                        assertEquals(want8, s[n][lane][c + 2], "S hd " + hd);
                        sFull[g][n * 8 + 2 * t4 + c] = want;
                        sFull[g + 8][n * 8 + 2 * t4 + c] = want8;
                    }
                }
            }
            float[][][] o = new float[hd / 8][32][4];
            for (int kk = 0; kk < 4; kk++) {
                float[][][] pa = new float[32][4][];
                for (int lane = 0; lane < 32; lane++) {   // pa[0] = (s[2kk][0], s[2kk][1]), pa[1] = (s[2kk][2], s[2kk][3]), ...
                    pa[lane][0] = new float[] {s[2 * kk][lane][0], s[2 * kk][lane][1]};
                    pa[lane][1] = new float[] {s[2 * kk][lane][2], s[2 * kk][lane][3]};
                    pa[lane][2] = new float[] {s[2 * kk + 1][lane][0], s[2 * kk + 1][lane][1]};
                    pa[lane][3] = new float[] {s[2 * kk + 1][lane][2], s[2 * kk + 1][lane][3]};
                }
                for (int dp = 0; dp < hd / 16; dp++) {
                    int[] off = new int[32];
                    for (int lane = 0; lane < 32; lane++) off[lane] = (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * lds + dp * 16 + (lane >> 4) * 8;
                    float[][][] x4 = WarpEmulator.ldmatrixX4(sV, off, true);
                    WarpEmulator.mma16816(o[2 * dp], pa, WarpEmulator.pick(x4, 0, 1));
                    WarpEmulator.mma16816(o[2 * dp + 1], pa, WarpEmulator.pick(x4, 2, 3));
                }
            }
            for (int lane = 0; lane < 32; lane++) {
                int g = lane >> 2, t4 = lane & 3;
                for (int d = 0; d < hd / 8; d++) {
                    for (int c = 0; c < 2; c++) {
                        int col = d * 8 + 2 * t4 + c;
                        float want = 0f, want8 = 0f;
                        for (int j = 0; j < 64; j++) {
                            want += sFull[g][j] * vm[j][col];
                            want8 += sFull[g + 8][j] * vm[j][col];
                        }
                        assertEquals(want, o[d][lane][c], "O hd " + hd);
                        assertEquals(want8, o[d][lane][c + 2], "O hd " + hd);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ window_attention numerics
    /**
     * flash_varlen's numerics on the host: 64-key tiles, masked tail keys, exp2-domain online softmax,
     * P rounded to bf16 before P.V, fp32 accumulators, bf16 inputs. Compared with the plain reference on
     * windows of unequal length (1, 37, 64) and a 300-token sequence (5 tiles, partial last). The bound
     * is the tolerance PolyVKernelsGpuTest uses (bf16 P: relative error ~2^-9 per term).
     */
    @Test
    void tiledOnlineSoftmaxWithBf16ProbabilitiesStaysWithinTheGpuTolerance() {
        Random r = new Random(13);
        int heads = 2, hd = 80;
        int[] cu = {0, 1, 38, 102, 402};
        int tokens = cu[cu.length - 1], width = heads * hd;
        float[] q = new float[tokens * width], k = new float[tokens * width], v = new float[tokens * width];
        for (int i = 0; i < q.length; i++) {
            q[i] = KernelReferences.bf16((float) r.nextGaussian() * 2f);
            k[i] = KernelReferences.bf16((float) r.nextGaussian() * 2f);
            v[i] = KernelReferences.bf16((float) r.nextGaussian());
        }
        float[] want = KernelReferences.windowAttention(q, k, v, tokens, heads, hd, cu);
        float scale = (float) (1 / Math.sqrt(hd)), log2e = 1.4426950408889634f, sl2 = scale * log2e;
        double maxErr = 0;
        for (int s = 0; s + 1 < cu.length; s++) {
            int start = cu[s], len = cu[s + 1] - start;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < len; i++) {
                    float m = Float.NEGATIVE_INFINITY, l = 0f;
                    float[] o = new float[hd];
                    for (int kv0 = 0; kv0 < len; kv0 += 64) {
                        float[] sc = new float[64];
                        float mx = m;
                        for (int j = 0; j < 64; j++) {
                            if (kv0 + j < len) {
                                float dot = 0f;
                                for (int d = 0; d < hd; d++) dot += q[(start + i) * width + h * hd + d] * k[(start + kv0 + j) * width + h * hd + d];
                                sc[j] = dot * sl2;
                            } else {
                                sc[j] = Float.NEGATIVE_INFINITY;
                            }
                            mx = Math.max(mx, sc[j]);
                        }
                        float alpha = (float) Math.pow(2, m - mx);
                        m = mx;
                        float rs = 0f;
                        for (int j = 0; j < 64; j++) {
                            sc[j] = (float) Math.pow(2, sc[j] - mx);
                            rs += sc[j];
                        }
                        l = l * alpha + rs;
                        for (int d = 0; d < hd; d++) {
                            o[d] *= alpha;
                            for (int j = 0; j < 64 && kv0 + j < len; j++) o[d] += KernelReferences.bf16(sc[j]) * v[(start + kv0 + j) * width + h * hd + d];
                        }
                    }
                    for (int d = 0; d < hd; d++) {
                        maxErr = Math.max(maxErr, Math.abs(o[d] / l - want[(start + i) * width + h * hd + d]));
                    }
                }
            }
        }
        assertTrue(maxErr < PolyVKernelsGpuTest.ATTENTION_ABS_TOL, "max abs error " + maxErr);
        assertTrue(maxErr > 0, "bf16 P must perturb the result a little (else the mirror does not round)");
    }
}

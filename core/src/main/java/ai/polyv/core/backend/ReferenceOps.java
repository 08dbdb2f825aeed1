package ai.polyv.core.backend;

import ai.polyv.core.cpu.Erf;
import ai.polyv.core.cpu.SoftmaxTopK;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;

/**
 * Plain scalar Java statement of every {@link Backend} op on host tensors: the reference each backend
 * (and each faster CPU kernel) is tested against. Straight loops, no threads, no vectors.
 *
 * <p><b>Accumulation rule</b> (the one rule of polyv's scalar references, shared with
 * {@link ai.polyv.core.cpu.ScalarKernels}): every reduction (dot products, sums of squares, softmax maxima and
 * denominators, attention's weighted sums) is accumulated in {@code double}, in index order, from float32
 * inputs widened exactly; each output element is rounded to float32 once, when it is stored. Elementwise ops
 * round once too ({@code exp}, {@code erf} in double). A reference is then within one float32 rounding of the
 * exact result, so a kernel's error against it is the kernel's own; the tolerances of the kernel tests
 * (CPU and GPU) are stated against this rule.
 */
public final class ReferenceOps {
    private ReferenceOps() {}


    static void requireF32(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F32) {
                throw new UnsupportedOperationException(op + ": activation tensor must be F32, got " + t);
            }
        }
    }

    /** Every row index in {@code [0, rows)}: the one check of gatherRows / scatterRows / scatterAddScaled on every backend. */
    public static void requireRows(String op, int[] index, int rows) {
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= rows) throw new IndexOutOfBoundsException(op + ": index[" + i + "] = " + index[i] + " outside [0, " + rows + ")");
        }
    }

    static void requireShape(String op, String what, Tensor t, long rows, long cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(op + ": " + what + " must be [" + rows + ", " + cols + "], got " + t);
        }
    }

    public static void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        requireF32("matmul", x, out);
        int n = x.rows(), k = x.cols(), m = w.rows();
        requireShape("matmul", "weight", w, m, k);
        requireShape("matmul", "out", out, n, m);
        if (bias != null && bias.numel() != m) throw new IllegalArgumentException("matmul: bias must have " + m + " values, got " + bias);
        float[] xr = new float[k];
        float[] wr = new float[k];
        for (int j = 0; j < m; j++) {
            for (int c = 0; c < k; c++) wr[c] = w.getFloat((long) j * k + c);
            double b = bias == null ? 0 : bias.getFloat(j);
            for (int i = 0; i < n; i++) {
                double acc = b;
                for (int c = 0; c < k; c++) acc += (double) x.getFloat((long) i * k + c) * wr[c];
                out.setFloat((long) i * m + j, (float) acc);
            }
        }
    }

    public static void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        requireF32("rmsNorm", x, out);
        int n = x.rows(), d = x.cols();
        requireShape("rmsNorm", "out", out, n, d);
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int c = 0; c < d; c++) {
                double v = x.getFloat((long) i * d + c);
                ss += v * v;
            }
            double inv = 1.0 / Math.sqrt(ss / d + eps);
            for (int c = 0; c < d; c++) {
                out.setFloat((long) i * d + c, (float) (w.getFloat(c) * (x.getFloat((long) i * d + c) * inv)));
            }
        }
    }

    public static float silu(float v) {
        return (float) (v / (1.0 + Math.exp(-v)));
    }

    public static float gelu(float v) {
        return (float) Erf.geluRef(v);
    }

    public static void siluMul(Tensor gate, Tensor up, Tensor out) {
        requireF32("siluMul", gate, up, out);
        for (long i = 0; i < out.numel(); i++) {
            double g = gate.getFloat(i);
            out.setFloat(i, (float) (g / (1.0 + Math.exp(-g)) * up.getFloat(i)));
        }
    }

    public static void gelu(Tensor x, Tensor out) {
        requireF32("gelu", x, out);
        for (long i = 0; i < out.numel(); i++) out.setFloat(i, gelu(x.getFloat(i)));
    }

    public static void add(Tensor a, Tensor b, Tensor out) {
        requireF32("add", a, b, out);
        if (a.numel() != b.numel() || a.numel() != out.numel()) throw new IllegalArgumentException("add: shapes " + a + " " + b + " " + out);
        for (long i = 0; i < out.numel(); i++) out.setFloat(i, a.getFloat(i) + b.getFloat(i));
    }

    public static void fill(Tensor t, float value) {
        requireF32("fill", t);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, value);
    }

    public static void embedding(Tensor table, int[] ids, Tensor out) {
        requireF32("embedding", out);
        int v = table.rows(), d = table.cols();
        requireShape("embedding", "out", out, ids.length, d);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= v) throw new IllegalArgumentException("embedding: id " + ids[i] + " at position " + i + " outside vocabulary [0, " + v + ")");
            for (int c = 0; c < d; c++) out.setFloat((long) i * d + c, table.getFloat((long) ids[i] * d + c));
        }
    }

    public static void gatherRows(Tensor src, int[] index, Tensor out) {
        requireF32("gatherRows", src, out);
        int d = src.cols();
        requireShape("gatherRows", "out", out, index.length, d);
        for (int i = 0; i < index.length; i++) {
            for (int c = 0; c < d; c++) out.setFloat((long) i * d + c, src.getFloat((long) index[i] * d + c));
        }
    }

    public static void scatterRows(Tensor src, int[] index, Tensor out) {
        requireF32("scatterRows", src, out);
        int d = src.cols();
        requireShape("scatterRows", "src", src, index.length, out.cols());
        for (int i = 0; i < index.length; i++) {
            for (int c = 0; c < d; c++) out.setFloat((long) index[i] * d + c, src.getFloat((long) i * d + c));
        }
    }

    public static void scatterAddScaled(Tensor src, int[] index, float[] scale, Tensor out) {
        requireF32("scatterAddScaled", src, out);
        int d = src.cols();
        requireShape("scatterAddScaled", "src", src, index.length, out.cols());
        for (int i = 0; i < index.length; i++) {
            for (int c = 0; c < d; c++) {
                long o = (long) index[i] * d + c;
                out.setFloat(o, out.getFloat(o) + scale[i] * src.getFloat((long) i * d + c));
            }
        }
    }

    public static void rope(Tensor x, int heads, Tensor cos, Tensor sin) {
        requireF32("rope", x, cos, sin);
        int n = x.rows(), hd = x.cols() / heads, half = hd / 2;
        requireShape("rope", "cos", cos, n, hd);
        requireShape("rope", "sin", sin, n, hd);
        float[] tmp = new float[hd];
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                long base = (long) r * x.cols() + (long) h * hd;
                for (int c = 0; c < hd; c++) tmp[c] = x.getFloat(base + c);
                for (int c = 0; c < hd; c++) {
                    float rot = c < half ? -tmp[c + half] : tmp[c - half];
                    x.setFloat(base + c, tmp[c] * cos.getFloat((long) r * hd + c) + rot * sin.getFloat((long) r * hd + c));
                }
            }
        }
    }

    /** One query head against keys {@code [k0, k1)}: the attention row, then the weighted sum of values. */
    static void attendOne(Tensor q, long qOff, Tensor k, Tensor v, int kvStride, int kvOff, int k0, int k1, int hd,
                          double scale, double[] scores, Tensor out, long outOff) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = k0; j < k1; j++) {
            double s = 0;
            long kOff = (long) j * kvStride + kvOff;
            for (int c = 0; c < hd; c++) s += (double) q.getFloat(qOff + c) * k.getFloat(kOff + c);
            s *= scale;
            scores[j - k0] = s;
            if (s > max) max = s;
        }
        double sum = 0;
        for (int j = k0; j < k1; j++) {
            double e = Math.exp(scores[j - k0] - max);
            scores[j - k0] = e;
            sum += e;
        }
        for (int c = 0; c < hd; c++) {
            double acc = 0;
            for (int j = k0; j < k1; j++) acc += scores[j - k0] / sum * v.getFloat((long) j * kvStride + kvOff + c);
            out.setFloat(outOff + c, (float) acc);
        }
    }

    public static void attentionSegments(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int[] cuSeqlens) {
        requireF32("attentionSegments", q, k, v, out);
        int n = q.rows(), width = q.cols(), hd = width / heads;
        if (cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != n) {
            throw new IllegalArgumentException("attentionSegments: cuSeqlens must run from 0 to " + n);
        }
        double scale = 1.0 / Math.sqrt(hd);
        int maxLen = 0;
        for (int s = 0; s + 1 < cuSeqlens.length; s++) maxLen = Math.max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
        double[] scores = new double[maxLen];
        for (int s = 0; s + 1 < cuSeqlens.length; s++) {
            for (int i = cuSeqlens[s]; i < cuSeqlens[s + 1]; i++) {
                for (int h = 0; h < heads; h++) {
                    long off = (long) i * width + (long) h * hd;
                    attendOne(q, off, k, v, width, h * hd, cuSeqlens[s], cuSeqlens[s + 1], hd, scale, scores, out, off);
                }
            }
        }
    }

    public static void attentionCausal(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start) {
        requireF32("attentionCausal", q, k, v, out);
        int n = q.rows(), width = q.cols(), hd = width / heads, kvWidth = k.cols(), group = heads / kvHeads;
        if (kvWidth != kvHeads * hd || k.rows() < start + n) {
            throw new IllegalArgumentException("attentionCausal: cache " + k + " too small for " + (start + n) + " rows of " + kvHeads + "x" + hd);
        }
        double scale = 1.0 / Math.sqrt(hd);
        double[] scores = new double[start + n];
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < heads; h++) {
                long off = (long) i * width + (long) h * hd;
                attendOne(q, off, k, v, kvWidth, (h / group) * hd, 0, start + i + 1, hd, scale, scores, out, off);
            }
        }
    }

    /**
     * Row-wise softmax over the {@code [n, m]} logits, then k passes of arg-max (ties to the lower index),
     * optionally renormalised: writes {@code idsOut[i*k, i*k+k)} and {@code weightsOut[...]}. The CPU backend's
     * router is {@link SoftmaxTopK#row} (float32 like PyTorch's, the same order of operations).
     */
    public static void softmaxTopK(Tensor logits, int k, boolean renormalize, int[] idsOut, float[] weightsOut) {
        requireF32("softmaxTopK", logits);
        int n = logits.rows(), m = logits.cols();
        if (k < 1 || k > m) throw new IllegalArgumentException("softmaxTopK: k=" + k + " not in [1, " + m + "]");
        double[] p = new double[m];
        boolean[] taken = new boolean[m];
        for (int i = 0; i < n; i++) {
            long off = (long) i * m;
            double max = Double.NEGATIVE_INFINITY;
            for (int e = 0; e < m; e++) max = Math.max(max, logits.getFloat(off + e));
            double sum = 0;
            for (int e = 0; e < m; e++) {
                p[e] = Math.exp(logits.getFloat(off + e) - max);
                sum += p[e];
            }
            for (int e = 0; e < m; e++) p[e] /= sum;
            java.util.Arrays.fill(taken, false);
            double wsum = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < m; e++) {
                    if (!taken[e] && (best < 0 || p[e] > p[best])) best = e; // strict >: ties keep the lower index
                }
                taken[best] = true;
                idsOut[i * k + j] = best;
                wsum += p[best];
            }
            for (int j = 0; j < k; j++) {
                double w = p[idsOut[i * k + j]];
                weightsOut[i * k + j] = (float) (renormalize ? w / wsum : w);
            }
        }
    }
}

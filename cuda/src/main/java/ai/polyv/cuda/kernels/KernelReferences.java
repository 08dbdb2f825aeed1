package ai.polyv.cuda.kernels;

import java.lang.foreign.MemorySegment;

import ai.polyv.core.backend.ReferenceOps;
import ai.polyv.core.cpu.WeightFormat;
import ai.polyv.core.model.LoadBalance;
import ai.polyv.core.model.MoeRouter;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;

/**
 * Plain Java references of the fused CUDA kernels, on host arrays with the kernels' exact layouts
 * (docs/style.md 2). They reuse the model's own stages where those exist ({@link ReferenceOps#softmaxTopK},
 * {@link TokenPermutation}, {@link LoadBalance}, {@link ReferenceOps#attentionSegments}) and add what
 * has no CPU equivalent: the expert FFN working from permuted entries with stacked weights, and the
 * combine through the inverse map. Values that the device holds in bf16 must already be bf16-rounded
 * ({@link #bf16}); accumulation here is float32 in index order.
 */
public final class KernelReferences {
    private KernelReferences() {}

    /** Rounds to the nearest bf16 value (round to nearest even), as the device's {@code __float2bfloat16}. */
    public static float bf16(float v) {
        return Float.intBitsToFloat((WeightFormat.toBf16(v) & 0xFFFF) << 16);
    }

    public static float[] bf16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = bf16(v[i]);
        return out;
    }

    private static Tensor f32(float[] data, long... shape) {
        return new Tensor(DType.F32, MemorySegment.ofArray(data), shape);
    }

    /** The router: {@code x [tokens, hidden]}, {@code gate [M, hidden]} -> routing (logits, ids, weights). */
    public static MoeRouter.Routing router(float[] x, float[] gate, int tokens, int hidden, int m, int k, boolean renormalize) {
        float[] logits = new float[tokens * m];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < m; e++) {
                float s = 0f;
                for (int h = 0; h < hidden; h++) s += x[t * hidden + h] * gate[e * hidden + h];
                logits[t * m + e] = s;
            }
        }
        int[] ids = new int[tokens * k];
        float[] w = new float[tokens * k];
        ReferenceOps.softmaxTopK(f32(logits, tokens, m), k, renormalize, ids, w);
        return new MoeRouter.Routing(tokens, k, m, logits, ids, w);
    }

    /** The router kernel's {@code stats [2, M]}: row 0 sums of p, row 1 argmax counts. */
    public static float[] routerStats(MoeRouter.Routing r) {
        LoadBalance lb = LoadBalance.of(r);
        int m = r.numExperts();
        float[] s = new float[2 * m];
        for (int e = 0; e < m; e++) {
            s[e] = (float) lb.probSums()[e];
            s[m + e] = lb.top1Counts()[e];
        }
        return s;
    }

    /**
     * Phase 1 of the experts from permuted entries: {@code h[i] = silu(a_i . gate_e) * (a_i . up_e)} for
     * entry i of expert e ({@code offsets}), {@code a_i = a[aRows[i]]} (or {@code a[i]} if aRows is null).
     *
     * @param a     {@code [rowsA, hidden]}
     * @param gateW {@code [M, ffn, hidden]}
     * @param upW   {@code [M, ffn, hidden]}
     * @return {@code [entries, ffn]}, bf16-rounded when {@code roundToBf16} (the kernel stores h as bf16)
     */
    public static float[] expertGateUp(float[] a, int[] aRows, float[] gateW, float[] upW, int[] offsets, int hidden, int ffn,
                                       boolean roundToBf16) {
        int m = offsets.length - 1, entries = offsets[m];
        float[] h = new float[entries * ffn];
        for (int e = 0; e < m; e++) {
            for (int i = offsets[e]; i < offsets[e + 1]; i++) {
                int row = aRows != null ? aRows[i] : i;
                for (int c = 0; c < ffn; c++) {
                    float g = 0f, u = 0f;
                    long w = ((long) e * ffn + c) * hidden;
                    for (int x = 0; x < hidden; x++) {
                        float av = a[row * hidden + x];
                        g += av * gateW[(int) (w + x)];
                        u += av * upW[(int) (w + x)];
                    }
                    float v = ReferenceOps.silu(g) * u;
                    h[i * ffn + c] = roundToBf16 ? bf16(v) : v;
                }
            }
        }
        return h;
    }

    /**
     * Phase 2: {@code y[i] = rowScale[i] * (h_i . down_e)}.
     *
     * @param h        {@code [entries, ffn]}
     * @param downW    {@code [M, hidden, ffn]}
     * @param rowScale {@code [entries]} or null (= 1)
     * @return {@code [entries, hidden]}
     */
    public static float[] expertDown(float[] h, float[] downW, int[] offsets, float[] rowScale, int hidden, int ffn) {
        int m = offsets.length - 1, entries = offsets[m];
        float[] y = new float[entries * hidden];
        for (int e = 0; e < m; e++) {
            for (int i = offsets[e]; i < offsets[e + 1]; i++) {
                float s = rowScale != null ? rowScale[i] : 1f;
                for (int c = 0; c < hidden; c++) {
                    float acc = 0f;
                    long w = ((long) e * hidden + c) * ffn;
                    for (int x = 0; x < ffn; x++) acc += h[i * ffn + x] * downW[(int) (w + x)];
                    y[i * hidden + c] = s * acc;
                }
            }
        }
        return y;
    }

    /**
     * The combine: {@code out[t] = sum_{j<k} w[t, j] * y[pos[t*k + j]]} in slot order.
     *
     * @param y   {@code [tokens*k, hidden]} in entry order
     * @param pos {@code [tokens, k]} ({@link TokenPermutation#positions})
     * @param w   {@code [tokens, k]} or null when y already carries the router weights
     */
    public static float[] combine(float[] y, int[] pos, float[] w, int tokens, int k, int hidden) {
        float[] out = new float[tokens * hidden];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < hidden; c++) {
                float acc = 0f;
                for (int j = 0; j < k; j++) acc += (w != null ? w[t * k + j] : 1f) * y[pos[t * k + j] * hidden + c];
                out[t * hidden + c] = acc;
            }
        }
        return out;
    }

    /** Windowed attention {@code [tokens, heads*hd]} through {@link ReferenceOps#attentionSegments}. */
    public static float[] windowAttention(float[] q, float[] k, float[] v, int tokens, int heads, int hd, int[] cuSeqlens) {
        float[] out = new float[tokens * heads * hd];
        ReferenceOps.attentionSegments(f32(q, tokens, (long) heads * hd), f32(k, tokens, (long) heads * hd),
                f32(v, tokens, (long) heads * hd), f32(out, tokens, (long) heads * hd), heads, cuSeqlens);
        return out;
    }
}

package ai.polyv.train.autograd;

import static ai.polyv.train.autograd.HostMath.dot;

import ai.polyv.core.cpu.Erf;
import ai.polyv.core.cpu.CpuThreads;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reverse-mode autograd over host float32 {@link Var}s. Every forward method computes its result and,
 * when an input needs a gradient, records one {@link Op} whose rule {@link #backward(Var)} replays in
 * reverse order. Ops whose inputs are all constants are computed but not recorded (their outputs are
 * constants). One tape serves one forward + backward; it is not thread-safe (its loops may use the
 * given {@link CpuThreads}).
 */
public final class Tape {
    private final CpuThreads pool;                  // null: serial
    private final List<Op> ops = new ArrayList<>();
    private final Set<Var> produced = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean consumed;

    public Tape(CpuThreads pool) {
        this.pool = pool;
    }

    /** Ops recorded so far. */
    public int size() {
        return ops.size();
    }

    private static boolean anyGrad(Var... in) {
        for (Var v : in) if (v != null && v.grad != null) return true;
        return false;
    }

    private Var out(int rows, int cols, Var... in) {
        return Var.output(rows, cols, anyGrad(in));
    }

    /** Records {@code op} producing {@code out} if it needs a gradient; refuses inputs no rule produced. */
    private Var record(Op op, Var out, Var... in) {
        if (consumed) throw new IllegalStateException("tape already replayed by backward(); start a new tape");
        if (out.grad == null) return out;
        for (Var v : in) {
            if (v != null && v.grad != null && !v.leaf && !produced.contains(v)) {
                throw new IllegalStateException("input " + v + " of " + op.getClass().getSimpleName()
                        + " was not produced by an op on this tape: no backward rule reaches it");
            }
        }
        ops.add(op);
        produced.add(out);
        return out;
    }

    private static void requireShape(String op, Var v, int rows, int cols) {
        if (v.rows != rows || v.cols != cols) {
            throw new IllegalArgumentException(op + ": expected [" + rows + ", " + cols + "], got " + v);
        }
    }

    /** {@code x [n, in] . W^T (+ b [1, out])} -> {@code [n, out]}. */
    public Var linear(Var x, Weight w, Var b) {
        if (x.cols != w.in()) throw new IllegalArgumentException("linear: input " + x + " vs weight [" + w.out() + ", " + w.in() + "]");
        if (b != null && b.value.length != w.out()) throw new IllegalArgumentException("linear: bias " + b + " vs " + w.out() + " outputs");
        Var wv = w instanceof Weight.Host h ? h.var() : null;
        Var y = out(x.rows, w.out(), x, wv, b);
        HostMath.matmulNT(pool, x.value, x.rows, x.cols, w, b == null ? null : b.value, y.value);
        return record(new Op.Linear(x, w, b, y), y, x, wv, b);
    }

    /** RMSNorm over rows with frozen {@code weight [cols]}. */
    public Var rmsNorm(Var x, float[] weight, float eps) {
        if (weight.length != x.cols) throw new IllegalArgumentException("rmsNorm: weight of " + weight.length + " for " + x);
        Var y = out(x.rows, x.cols, x);
        float[] rinv = new float[x.rows];
        int d = x.cols;
        for (int i = 0; i < x.rows; i++) {
            float ss = dot(x.value, i * d, x.value, i * d, d);
            float r = (float) (1 / Math.sqrt(ss / d + eps));
            rinv[i] = r;
            for (int j = 0; j < d; j++) y.value[i * d + j] = weight[j] * (x.value[i * d + j] * r);
        }
        return record(new Op.RmsNorm(x, weight, rinv, y), y, x);
    }

    /** Rotate-half RoPE on {@code heads} heads of {@code x [n, heads*hd]}, tables {@code [n, hd]}. */
    public Var rope(Var x, int heads, float[] cos, float[] sin) {
        int hd = x.cols / heads, half = hd / 2;
        if (hd * heads != x.cols || hd % 2 != 0 || cos.length != x.rows * hd || sin.length != cos.length) {
            throw new IllegalArgumentException("rope: " + x + " with " + heads + " heads and tables of " + cos.length);
        }
        Var y = out(x.rows, x.cols, x);
        for (int i = 0; i < x.rows; i++) {
            for (int h = 0; h < heads; h++) {
                int o = i * x.cols + h * hd, t = i * hd;
                for (int a = 0; a < half; a++) {
                    float x1 = x.value[o + a], x2 = x.value[o + a + half];
                    y.value[o + a] = x1 * cos[t + a] - x2 * sin[t + a];
                    y.value[o + a + half] = x2 * cos[t + a + half] + x1 * sin[t + a + half];
                }
            }
        }
        return record(new Op.Rope(x, heads, cos, sin, y), y, x);
    }

    /** Causal GQA attention over the whole sequence; see {@link Op.Attention}. */
    public Var attention(Var q, Var k, Var v, int heads, int kvHeads) {
        int n = q.rows, hd = q.cols / heads;
        if (heads % kvHeads != 0 || hd * heads != q.cols) throw new IllegalArgumentException("attention: q " + q + " with " + heads + "/" + kvHeads + " heads");
        requireShape("attention k", k, n, kvHeads * hd);
        requireShape("attention v", v, n, kvHeads * hd);
        Var o = out(n, q.cols, q, k, v);
        float[] lse = new float[heads * n];
        int group = heads / kvHeads, kc = k.cols;
        float scale = (float) (1 / Math.sqrt(hd));
        HostMath.parallel(pool, heads, (h0, h1) -> {
            float[] s = new float[n];
            for (int h = h0; h < h1; h++) {
                int g = h / group;
                for (int i = 0; i < n; i++) {
                    int qo = i * q.cols + h * hd;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        s[j] = scale * dot(q.value, qo, k.value, j * kc + g * hd, hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += StrictMath.exp(s[j] - max);
                    float l = (float) (max + StrictMath.log(sum));
                    lse[h * n + i] = l;
                    for (int j = 0; j <= i; j++) HostMath.axpy((float) StrictMath.exp(s[j] - l), v.value, j * kc + g * hd, o.value, qo, hd);
                }
            }
        });
        return record(new Op.Attention(q, k, v, heads, kvHeads, lse, o), o, q, k, v);
    }

    public Var silu(Var x) {
        Var y = out(x.rows, x.cols, x);
        for (int i = 0; i < x.value.length; i++) y.value[i] = x.value[i] / (1 + (float) StrictMath.exp(-x.value[i]));
        return record(new Op.Silu(x, y), y, x);
    }

    /** GELU with the exact erf (docs/spec.md §1-2: merger and synergy heads). */
    public Var gelu(Var x) {
        Var y = out(x.rows, x.cols, x);
        for (int i = 0; i < x.value.length; i++) {
            double a = x.value[i];
            y.value[i] = (float) (0.5 * a * (1 + Erf.erfRef(a / Math.sqrt(2))));
        }
        return record(new Op.Gelu(x, y), y, x);
    }

    /** {@code silu(gate) * up}, same shapes. */
    public Var swiglu(Var gate, Var up) {
        requireShape("swiglu up", up, gate.rows, gate.cols);
        Var y = out(gate.rows, gate.cols, gate, up);
        for (int i = 0; i < y.value.length; i++) {
            float g = gate.value[i];
            y.value[i] = g / (1 + (float) StrictMath.exp(-g)) * up.value[i];
        }
        return record(new Op.SwiGlu(gate, up, y), y, gate, up);
    }

    public Var add(Var a, Var b) {
        requireShape("add", b, a.rows, a.cols);
        Var y = out(a.rows, a.cols, a, b);
        for (int i = 0; i < y.value.length; i++) y.value[i] = a.value[i] + b.value[i];
        return record(new Op.Add(a, b, y), y, a, b);
    }

    /** Embedding lookup: rows {@code ids} of {@code table [vocab, hidden]} -> {@code [ids.length, hidden]}. */
    public Var embedding(Weight table, int[] ids) {
        Var tv = table instanceof Weight.Host h ? h.var() : null;
        Var y = out(ids.length, table.in(), tv);
        float[] row = new float[table.in()];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= table.out()) throw new IndexOutOfBoundsException("embedding: id " + ids[i] + " at position " + i + " outside [0, " + table.out() + ")");
            table.row(ids[i], 0, table.in(), row);
            System.arraycopy(row, 0, y.value, i * table.in(), table.in());
        }
        return record(new Op.Embedding(table, ids.clone(), y), y, tv);
    }

    /** {@code x} with row {@code at[r]} replaced by row r of {@code rows} (vision placeholders); {@code at} distinct. */
    public Var replaceRows(Var x, Var rows, int[] at) {
        if (rows.cols != x.cols || rows.rows != at.length) throw new IllegalArgumentException("replaceRows: " + rows + " into " + x + " at " + at.length + " rows");
        Var y = out(x.rows, x.cols, x, rows);
        System.arraycopy(x.value, 0, y.value, 0, x.value.length);
        boolean[] seen = new boolean[x.rows];
        for (int r = 0; r < at.length; r++) {
            if (at[r] < 0 || at[r] >= x.rows || seen[at[r]]) throw new IllegalArgumentException("replaceRows: row " + at[r] + " outside " + x + " or repeated");
            seen[at[r]] = true;
            System.arraycopy(rows.value, r * x.cols, y.value, at[r] * x.cols, x.cols);
        }
        return record(new Op.ReplaceRows(x, rows, at.clone(), y), y, x, rows);
    }

    /** Rows {@code rows[r]} of {@code x}, in that order. */
    public Var gatherRows(Var x, int[] rows) {
        Var y = out(rows.length, x.cols, x);
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] < 0 || rows[r] >= x.rows) throw new IndexOutOfBoundsException("gatherRows: row " + rows[r] + " of " + x);
            System.arraycopy(x.value, rows[r] * x.cols, y.value, r * x.cols, x.cols);
        }
        return record(new Op.GatherRows(x, rows.clone(), y), y, x);
    }

    public Var softmax(Var x) {
        Var y = out(x.rows, x.cols, x);
        int c = x.cols;
        for (int i = 0; i < x.rows; i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, x.value[i * c + j]);
            float sum = 0;
            for (int j = 0; j < c; j++) sum += (y.value[i * c + j] = (float) StrictMath.exp(x.value[i * c + j] - max));
            for (int j = 0; j < c; j++) y.value[i * c + j] /= sum;
        }
        return record(new Op.Softmax(x, y), y, x);
    }

    /** Result of {@link #topK}: {@code ids [n, k]} best first, {@code weights [n, k]}. */
    public record Routing(int[] ids, Var weights) {}

    /**
     * Top-k of each row of {@code p [n, M]}: descending, ties to the lower expert index; weights are
     * the probabilities, divided by their sum when {@code renormalize}.
     */
    public Routing topK(Var p, int k, boolean renormalize) {
        int n = p.rows, m = p.cols;
        if (k < 1 || k > m) throw new IllegalArgumentException("topK: k = " + k + " for " + m + " experts");
        int[] ids = new int[n * k];
        float[] sums = new float[n];
        Var w = out(n, k, p);
        boolean[] taken = new boolean[m];
        for (int t = 0; t < n; t++) {
            java.util.Arrays.fill(taken, false);
            float sum = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < m; e++) if (!taken[e] && (best < 0 || p.value[t * m + e] > p.value[t * m + best])) best = e;
                taken[best] = true;
                ids[t * k + j] = best;
                w.value[t * k + j] = p.value[t * m + best];
                sum += w.value[t * k + j];
            }
            sums[t] = sum;
            if (renormalize) for (int j = 0; j < k; j++) w.value[t * k + j] /= sum;
        }
        record(new Op.TopK(p, k, renormalize, ids, sums, w), w, p);
        return new Routing(ids, w);
    }

    /**
     * MoE weighted combine into {@code [n, hidden]}: expert e's output rows {@code expertOut[e]} belong to
     * tokens {@code tokens[e]} and top-k slots {@code slots[e]}; {@code w [n, k]} from {@link #topK}.
     */
    public Var moeCombine(Var[] expertOut, int[][] tokens, int[][] slots, Var w, int hidden) {
        int n = w.rows, k = w.cols;
        Var[] in = new Var[expertOut.length + 1];
        System.arraycopy(expertOut, 0, in, 0, expertOut.length);
        in[expertOut.length] = w;
        Var y = out(n, hidden, in);
        for (int e = 0; e < expertOut.length; e++) {
            if (expertOut[e] == null) continue;
            requireShape("moeCombine expert " + e, expertOut[e], tokens[e].length, hidden);
            for (int r = 0; r < tokens[e].length; r++) {
                int t = tokens[e][r];
                HostMath.axpy(w.value[t * k + slots[e][r]], expertOut[e].value, r * hidden, y.value, t * hidden, hidden);
            }
        }
        return record(new Op.MoeCombine(expertOut.clone(), tokens, slots, w, y), y, in);
    }

    /**
     * Mean cross-entropy of {@code logits [rows, vocab]} against {@code target [rows]} (entries < 0 are
     * ignored) -> {@code [1, 1]}; 0 when no row counts.
     */
    public Var crossEntropy(Var logits, int[] target) {
        if (target.length != logits.rows) throw new IllegalArgumentException("crossEntropy: " + target.length + " targets for " + logits);
        int v = logits.cols, count = 0;
        float[] lse = new float[logits.rows];
        double total = 0;
        for (int i = 0; i < logits.rows; i++) {
            if (target[i] < 0) continue;
            if (target[i] >= v) throw new IllegalArgumentException("crossEntropy: target " + target[i] + " at row " + i + " outside [0, " + v + ")");
            int o = i * v;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) max = Math.max(max, logits.value[o + j]);
            double s = 0;
            for (int j = 0; j < v; j++) s += StrictMath.exp(logits.value[o + j] - max);
            double l = max + StrictMath.log(s);
            lse[i] = (float) l;
            total += l - logits.value[o + target[i]];
            count++;
        }
        Var loss = out(1, 1, logits);
        loss.value[0] = count == 0 ? 0f : (float) (total / count);
        return record(new Op.CrossEntropy(logits, target.clone(), count, lse, loss), loss, logits);
    }

    /** {@code mean((pred - target)^2)} -> {@code [1, 1]}; target constant of the same size. */
    public Var mse(Var pred, float[] target) {
        if (target.length != pred.value.length) throw new IllegalArgumentException("mse: " + target.length + " targets for " + pred);
        double s = 0;
        for (int i = 0; i < target.length; i++) {
            double d = (double) pred.value[i] - target[i];
            s += d * d;
        }
        Var loss = out(1, 1, pred);
        loss.value[0] = (float) (s / target.length);
        return record(new Op.Mse(pred, target, loss), loss, pred);
    }

    /** Load-balancing loss of router probabilities {@code p [n, M]} (see {@link Op.LoadBalance}) -> {@code [1, 1]}. */
    public Var loadBalance(Var p) {
        int n = p.rows, m = p.cols;
        float[] fraction = new float[m];
        double[] mean = new double[m];
        for (int t = 0; t < n; t++) {
            int best = 0;
            for (int e = 0; e < m; e++) {
                mean[e] += p.value[t * m + e];
                if (p.value[t * m + e] > p.value[t * m + best]) best = e;
            }
            fraction[best] += 1f / n;
        }
        double l = 0;
        for (int e = 0; e < m; e++) l += fraction[e] * (mean[e] / n);
        Var loss = out(1, 1, p);
        loss.value[0] = (float) (m * l);
        return record(new Op.LoadBalance(p, fraction, loss), loss, p);
    }

    /** {@code sum_i weights[i] * terms[i]} of scalar terms -> {@code [1, 1]}. */
    public Var weightedSum(Var[] terms, double[] weights) {
        if (terms.length != weights.length) throw new IllegalArgumentException("weightedSum: " + terms.length + " terms, " + weights.length + " weights");
        double s = 0;
        for (int i = 0; i < terms.length; i++) {
            requireShape("weightedSum term " + i, terms[i], 1, 1);
            s += weights[i] * terms[i].value[0];
        }
        Var out = out(1, 1, terms);
        out.value[0] = (float) s;
        return record(new Op.WeightedSum(terms.clone(), weights.clone(), out), out, terms);
    }

    /**
     * Backward from the scalar {@code loss}: its gradient is seeded with 1 and every recorded rule runs
     * in reverse order, adding into the inputs' gradients. The tape cannot be used afterwards.
     */
    public void backward(Var loss) {
        requireShape("backward loss", loss, 1, 1);
        backward(loss, new float[] {1f});
    }

    /**
     * Vector-Jacobian product: adds {@code outputGrad} (same size as {@code output}) to the output's
     * gradient and replays every recorded rule in reverse. The tape cannot be used afterwards.
     */
    public void backward(Var output, float[] outputGrad) {
        if (consumed) throw new IllegalStateException("tape already replayed by backward()");
        if (outputGrad.length != output.value.length) {
            throw new IllegalArgumentException("backward: gradient of " + outputGrad.length + " values for " + output);
        }
        consumed = true;
        if (output.grad == null) return;               // nothing trainable reached the output
        if (!output.leaf && !produced.contains(output)) throw new IllegalStateException("output " + output + " was not produced on this tape");
        HostMath.axpy(1f, outputGrad, 0, output.grad, 0, outputGrad.length);
        for (int i = ops.size() - 1; i >= 0; i--) ops.get(i).backward(pool);
        ops.clear();
        produced.clear();
    }
}

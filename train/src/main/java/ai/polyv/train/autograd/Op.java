package ai.polyv.train.autograd;

import static ai.polyv.train.autograd.HostMath.axpy;
import static ai.polyv.train.autograd.HostMath.dot;

import ai.polyv.core.cpu.CpuThreads;

/**
 * The closed set of ops a {@link Tape} records, each with exactly one backward rule. A rule reads the
 * output gradient and adds ({@code +=}) into the gradient of every input that has a buffer; inputs
 * without one (constants, frozen weights) are skipped. Forward maths lives in {@link Tape}; the record
 * keeps what its rule needs. Being sealed, an op without a rule cannot be compiled, and {@link Tape}
 * refuses inputs that no recorded rule produced.
 */
sealed interface Op {

    void backward(CpuThreads pool);

    /** {@code y [n, out] = x [n, in] . W^T + b}. */
    record Linear(Var x, Weight w, Var b, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            int n = x.rows, m = w.out(), k = w.in();
            float[] dy = y.grad;
            if (x.grad != null) HostMath.matmulNN(pool, dy, n, w, x.grad);
            if (w instanceof Weight.Host h && h.var().grad != null) HostMath.matmulTN(pool, dy, n, m, x.value, k, h.var().grad);
            if (b != null && b.grad != null) {
                for (int i = 0; i < n; i++) for (int o = 0; o < m; o++) b.grad[o] += dy[i * m + o];
            }
        }
    }

    /** {@code y = w * x * rinv} per row, {@code rinv = 1/sqrt(mean(x^2) + eps)}; w frozen {@code [cols]}. */
    record RmsNorm(Var x, float[] w, float[] rinv, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            int d = x.cols;
            for (int i = 0; i < x.rows; i++) {
                int o = i * d;
                double s = 0;
                for (int j = 0; j < d; j++) s += (double) y.grad[o + j] * w[j] * x.value[o + j];
                float r = rinv[i], c = (float) (s * r * r * r / d);
                for (int j = 0; j < d; j++) x.grad[o + j] += r * w[j] * y.grad[o + j] - c * x.value[o + j];
            }
        }
    }

    /**
     * Rotate-half rotary embedding on {@code heads} heads: {@code y = x*cos + rot(x)*sin} with
     * {@code cos, sin [rows, headDim]}; the backward rule is the rotation by the opposite angle.
     */
    record Rope(Var x, int heads, float[] cos, float[] sin, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            int hd = x.cols / heads, half = hd / 2;
            for (int i = 0; i < x.rows; i++) {
                for (int h = 0; h < heads; h++) {
                    int o = i * x.cols + h * hd, t = i * hd;
                    for (int a = 0; a < half; a++) {
                        float g1 = y.grad[o + a], g2 = y.grad[o + a + half];
                        x.grad[o + a] += g1 * cos[t + a] + g2 * sin[t + a + half];
                        x.grad[o + a + half] += g2 * cos[t + a + half] - g1 * sin[t + a];
                    }
                }
            }
        }
    }

    /**
     * Causal grouped-query attention: {@code q [n, heads*hd]}, {@code k, v [n, kvHeads*hd]}, query head h
     * reads kv head {@code h / (heads/kvHeads)}, scale {@code hd^-0.5}. Keeps the log-sum-exp of every
     * (head, row) {@code lse [heads*n]}; backward recomputes the probabilities from it.
     */
    record Attention(Var q, Var k, Var v, int heads, int kvHeads, float[] lse, Var o) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (q.grad == null && k.grad == null && v.grad == null) return;
            int n = q.rows, hd = q.cols / heads, group = heads / kvHeads, qc = q.cols, kc = k.cols;
            float scale = (float) (1 / Math.sqrt(hd));
            HostMath.parallel(pool, kvHeads, (g0, g1) -> {
                float[] p = new float[n], dp = new float[n];
                for (int g = g0; g < g1; g++) {
                    for (int h = g * group; h < (g + 1) * group; h++) {
                        for (int i = 0; i < n; i++) {
                            int qo = i * qc + h * hd;
                            float l = lse[h * n + i];
                            double dsum = 0;
                            for (int j = 0; j <= i; j++) {
                                p[j] = (float) StrictMath.exp(scale * dot(q.value, qo, k.value, j * kc + g * hd, hd) - l);
                            }
                            // D_i = sum_j p_ij * (do_i . v_j)
                            for (int j = 0; j <= i; j++) {
                                dp[j] = dot(o.grad, qo, v.value, j * kc + g * hd, hd);
                                dsum += (double) p[j] * dp[j];
                            }
                            for (int j = 0; j <= i; j++) {
                                float ds = p[j] * (dp[j] - (float) dsum) * scale;
                                if (q.grad != null) axpy(ds, k.value, j * kc + g * hd, q.grad, qo, hd);
                                if (k.grad != null) axpy(ds, q.value, qo, k.grad, j * kc + g * hd, hd);
                                if (v.grad != null) axpy(p[j], o.grad, qo, v.grad, j * kc + g * hd, hd);
                            }
                        }
                    }
                }
            });
        }
    }

    /** {@code y = x * sigmoid(x)}. */
    record Silu(Var x, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            for (int i = 0; i < x.value.length; i++) x.grad[i] += y.grad[i] * siluGrad(x.value[i]);
        }
    }

    /** {@code y = 0.5 x (1 + erf(x / sqrt 2))}. */
    record Gelu(Var x, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            for (int i = 0; i < x.value.length; i++) {
                double a = x.value[i];
                double d = 0.5 * (1 + ai.polyv.core.cpu.Erf.erfRef(a / Math.sqrt(2))) + a * StrictMath.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI);
                x.grad[i] += (float) (y.grad[i] * d);
            }
        }
    }

    /** {@code y = silu(gate) * up}. */
    record SwiGlu(Var gate, Var up, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            for (int i = 0; i < y.value.length; i++) {
                float g = gate.value[i], dy = y.grad[i];
                if (gate.grad != null) gate.grad[i] += dy * up.value[i] * siluGrad(g);
                if (up.grad != null) up.grad[i] += dy * (g / (1 + (float) StrictMath.exp(-g)));
            }
        }
    }

    /** {@code y = a + b} (residual). */
    record Add(Var a, Var b, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (a.grad != null) axpy(1f, y.grad, 0, a.grad, 0, y.grad.length);
            if (b.grad != null) axpy(1f, y.grad, 0, b.grad, 0, y.grad.length);
        }
    }

    /** {@code y[i] = table[ids[i]]}; a host table with a gradient buffer receives the scatter-add of dy. */
    record Embedding(Weight table, int[] ids, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (!(table instanceof Weight.Host h) || h.var().grad == null) return;
            int d = y.cols;
            for (int i = 0; i < ids.length; i++) axpy(1f, y.grad, i * d, h.var().grad, ids[i] * d, d);
        }
    }

    /** Placeholder replacement: {@code y = x} except {@code y[at[r]] = rows[r]} ({@code at} distinct). */
    record ReplaceRows(Var x, Var rows, int[] at, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            int d = y.cols;
            if (x.grad != null) {
                boolean[] replaced = new boolean[x.rows];
                for (int r : at) replaced[r] = true;
                for (int i = 0; i < x.rows; i++) if (!replaced[i]) axpy(1f, y.grad, i * d, x.grad, i * d, d);
            }
            if (rows.grad != null) for (int r = 0; r < at.length; r++) axpy(1f, y.grad, at[r] * d, rows.grad, r * d, d);
        }
    }

    /** {@code y[r] = x[rows[r]]} (MoE dispatch, synergy rows); backward scatter-adds. */
    record GatherRows(Var x, int[] rows, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            for (int r = 0; r < rows.length; r++) axpy(1f, y.grad, r * x.cols, x.grad, rows[r] * x.cols, x.cols);
        }
    }

    /** Row softmax. */
    record Softmax(Var x, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (x.grad == null) return;
            int c = x.cols;
            for (int i = 0; i < x.rows; i++) {
                double s = 0;
                for (int j = 0; j < c; j++) s += (double) y.grad[i * c + j] * y.value[i * c + j];
                for (int j = 0; j < c; j++) x.grad[i * c + j] += y.value[i * c + j] * (y.grad[i * c + j] - (float) s);
            }
        }
    }

    /**
     * Top-k routing weights: {@code w [n, k] = p[t, ids[t, j]]}, divided by their row sum when
     * {@code renormalize} ({@code sums [n]} kept). No gradient flows through the choice of ids.
     */
    record TopK(Var p, int k, boolean renormalize, int[] ids, float[] sums, Var w) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (p.grad == null) return;
            int m = p.cols;
            for (int t = 0; t < p.rows; t++) {
                float dot = 0;
                if (renormalize) for (int j = 0; j < k; j++) dot += w.grad[t * k + j] * w.value[t * k + j];
                for (int j = 0; j < k; j++) {
                    float g = w.grad[t * k + j];
                    p.grad[t * m + ids[t * k + j]] += renormalize ? (g - dot) / sums[t] : g;
                }
            }
        }
    }

    /**
     * Weighted combine of expert outputs: {@code y[tokens[e][r]] += w[tokens[e][r], slots[e][r]] * out[e][r]}
     * with {@code out[e] [count_e, hidden]} (null for an expert without tokens), {@code w [n, k]}.
     */
    record MoeCombine(Var[] expertOut, int[][] tokens, int[][] slots, Var w, Var y) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            int d = y.cols, k = w.cols;
            for (int e = 0; e < expertOut.length; e++) {
                Var oe = expertOut[e];
                if (oe == null) continue;
                for (int r = 0; r < tokens[e].length; r++) {
                    int t = tokens[e][r], wi = t * k + slots[e][r];
                    if (oe.grad != null) axpy(w.value[wi], y.grad, t * d, oe.grad, r * d, d);
                    if (w.grad != null) w.grad[wi] += dot(y.grad, t * d, oe.value, r * d, d);
                }
            }
        }
    }

    /**
     * Mean cross-entropy over rows with {@code target[i] >= 0} ({@code count} of them) of
     * {@code logits [rows, vocab]}; {@code lse [rows]} kept; {@code loss [1, 1]}.
     */
    record CrossEntropy(Var logits, int[] target, int count, float[] lse, Var loss) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (logits.grad == null || count == 0) return;
            int v = logits.cols;
            float g = loss.grad[0] / count;
            for (int i = 0; i < logits.rows; i++) {
                if (target[i] < 0) continue;
                int o = i * v;
                for (int j = 0; j < v; j++) logits.grad[o + j] += g * (float) StrictMath.exp(logits.value[o + j] - lse[i]);
                logits.grad[o + target[i]] -= g;
            }
        }
    }

    /** {@code loss [1, 1] = mean((pred - target)^2)} over all elements; target constant. */
    record Mse(Var pred, float[] target, Var loss) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (pred.grad == null) return;
            float g = 2f * loss.grad[0] / pred.value.length;
            for (int i = 0; i < pred.value.length; i++) pred.grad[i] += g * (pred.value[i] - target[i]);
        }
    }

    /**
     * Load-balancing loss {@code M * sum_i F_i * G_i} of router probabilities {@code p [n, M]}:
     * {@code F [M]} (argmax fractions) is a constant, {@code G_i = mean_t p[t, i]} gets the gradient.
     */
    record LoadBalance(Var p, float[] fraction, Var loss) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            if (p.grad == null) return;
            int m = p.cols, n = p.rows;
            for (int t = 0; t < n; t++) for (int i = 0; i < m; i++) p.grad[t * m + i] += loss.grad[0] * m * fraction[i] / n;
        }
    }

    /** {@code out [1, 1] = sum_i weights[i] * terms[i]} for scalar terms. */
    record WeightedSum(Var[] terms, double[] weights, Var out) implements Op {
        @Override
        public void backward(CpuThreads pool) {
            for (int i = 0; i < terms.length; i++) if (terms[i].grad != null) terms[i].grad[0] += (float) (weights[i] * out.grad[0]);
        }
    }

    /** d silu(x) / dx = s (1 + x (1 - s)), s = sigmoid(x). */
    static float siluGrad(float x) {
        float s = 1f / (1f + (float) StrictMath.exp(-x));
        return s * (1f + x * (1f - s));
    }
}

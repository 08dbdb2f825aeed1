package ai.polyv.train.optim;

import ai.polyv.train.autograd.Param;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with {@code torch.optim.AdamW} semantics (amsgrad off, maximize off), in float32 like torch:
 * <pre>
 *   p  = p - lr * weight_decay * p                 (decoupled decay, first)
 *   m  = beta1 * m + (1 - beta1) * g
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p  = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * with {@code t} the 1-based step count. State ({@code exp_avg}, {@code exp_avg_sq}, {@code t}) is one
 * pair of arrays per parameter, in the order of the parameter list given to the constructor.
 */
public final class AdamW {

    /** Hyper-parameters; {@code lr} here is the base rate (schedules scale it per step). */
    public record Hyper(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("invalid AdamW settings: lr=" + lr + " betas=(" + beta1 + ", " + beta2
                        + ") eps=" + eps + " weight_decay=" + weightDecay);
            }
        }

        /** torch defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
        public static Hyper torchDefaults(double lr) {
            return new Hyper(lr, 0.9, 0.999, 1e-8, 0.01);
        }
    }

    private final List<Param> params;
    private final Hyper hyper;
    private final float[][] expAvg;   // per param [numel]
    private final float[][] expAvgSq; // per param [numel]
    private long step;

    public AdamW(List<Param> params, Hyper hyper) {
        this.params = List.copyOf(params);
        this.hyper = hyper;
        this.expAvg = new float[this.params.size()][];
        this.expAvgSq = new float[this.params.size()][];
        for (int i = 0; i < this.params.size(); i++) {
            expAvg[i] = new float[this.params.get(i).numel()];
            expAvgSq[i] = new float[this.params.get(i).numel()];
        }
    }

    public Hyper hyper() {
        return hyper;
    }

    public List<Param> params() {
        return params;
    }

    /** Steps taken so far. */
    public long stepCount() {
        return step;
    }

    /** One update of every parameter at learning rate {@code lr}, then gradients are zeroed. */
    public void step(double lr) {
        step++;
        float b1 = (float) hyper.beta1(), b2 = (float) hyper.beta2();
        double bc1 = 1 - Math.pow(hyper.beta1(), step);
        double bc2 = 1 - Math.pow(hyper.beta2(), step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float eps = (float) hyper.eps();
        float decay = (float) (1 - lr * hyper.weightDecay());
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] w = p.value(), g = p.grad(), m = expAvg[i], v = expAvgSq[i];
            for (int j = 0; j < w.length; j++) {
                float gj = g[j];
                w[j] *= decay;
                m[j] = m[j] * b1 + (1 - b1) * gj;          // torch: lerp(m, g, 1-beta1)
                v[j] = v[j] * b2 + (1 - b2) * gj * gj;
                float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + eps;
                w[j] -= stepSize * (m[j] / denom);
                g[j] = 0;
            }
        }
    }

    /** Zeroes every gradient without stepping. */
    public void zeroGrad() {
        for (Param p : params) java.util.Arrays.fill(p.grad(), 0f);
    }

    /** The state for checkpoints: one entry per parameter, in order (arrays are live, not copies). */
    public List<State> state() {
        List<State> out = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) out.add(new State(params.get(i).name(), expAvg[i], expAvgSq[i]));
        return out;
    }

    /** Restores state written by {@link #state()} (names and sizes must match) and the step count. */
    public void restore(List<State> states, long stepCount) {
        if (states.size() != params.size()) {
            throw new IllegalArgumentException("optimizer state has " + states.size() + " parameters, expected " + params.size());
        }
        for (int i = 0; i < params.size(); i++) {
            State s = states.get(i);
            Param p = params.get(i);
            if (!s.name().equals(p.name()) || s.expAvg().length != p.numel() || s.expAvgSq().length != p.numel()) {
                throw new IllegalArgumentException("optimizer state entry " + i + " is " + s.name() + " [" + s.expAvg().length
                        + "], expected " + p.name() + " [" + p.numel() + "]");
            }
            System.arraycopy(s.expAvg(), 0, expAvg[i], 0, p.numel());
            System.arraycopy(s.expAvgSq(), 0, expAvgSq[i], 0, p.numel());
        }
        this.step = stepCount;
    }

    /** Adam moments of one parameter: {@code exp_avg} and {@code exp_avg_sq}, each {@code [numel]}. */
    public record State(String name, float[] expAvg, float[] expAvgSq) {}
}

package ai.polyv.train.autograd;

import java.util.Random;
import java.util.function.Function;

/**
 * Central finite differences against a tape's backward rules. The probed function is
 * {@code L(inputs) = sum_i r_i * y_i(inputs)} with a fixed random upstream gradient {@code r}, summed in
 * double from the op's float32 outputs; the analytic gradient is {@link Tape#backward(Var, float[])}
 * seeded with {@code r}.
 *
 * <p>Error budget (why the thresholds in the tests hold for a correct rule and fail for a wrong one):
 * with step h the central difference has truncation error ~ h^2 |L'''| / 6 and round-off
 * ~ eps_f32 * |L| / h (eps_f32 = 6e-8: the outputs are float32). With h = 1e-2 and |L|, |L'''| = O(1..10)
 * on the small inputs used here both stay below ~1e-4 relative, so the tests accept a relative L2 error
 * (over all elements of an input's gradient) of 2e-3. A missing term or wrong sign in a rule gives errors
 * of order 1e-1..1.
 */
final class GradientCheck {
    static final double H = 1e-2;

    private GradientCheck() {}

    static float[] random(Random rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    /** Relative L2 error between the analytic and the numeric gradient of each input (worst one). */
    static double worstError(Random rnd, Function<Tape, Var> f, Var... inputs) {
        Var y0 = f.apply(new Tape(null));
        float[] r = random(rnd, y0.value.length, 1.0);
        for (Var in : inputs) java.util.Arrays.fill(in.grad, 0f);
        Tape tape = new Tape(null);
        Var y = f.apply(tape);
        tape.backward(y, r);
        double worst = 0;
        for (Var in : inputs) {
            float[] analytic = in.grad.clone();
            double num = 0, den = 0;
            for (int i = 0; i < in.value.length; i++) {
                float x = in.value[i];
                float xp = (float) (x + H), xm = (float) (x - H);
                in.value[i] = xp;
                double lp = probe(f, r);
                in.value[i] = xm;
                double lm = probe(f, r);
                in.value[i] = x;
                double fd = (lp - lm) / ((double) xp - xm);
                num += (fd - analytic[i]) * (fd - analytic[i]);
                den += fd * fd;
            }
            double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
            worst = Math.max(worst, rel);
        }
        return worst;
    }

    private static double probe(Function<Tape, Var> f, float[] r) {
        Var y = f.apply(new Tape(null));
        double s = 0;
        for (int i = 0; i < r.length; i++) s += (double) r[i] * y.value[i];
        return s;
    }
}

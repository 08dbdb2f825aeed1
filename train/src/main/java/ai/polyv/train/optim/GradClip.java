package ai.polyv.train.optim;

import ai.polyv.train.autograd.Param;
import java.util.List;

/**
 * Global-norm gradient clipping with {@code torch.nn.utils.clip_grad_norm_} semantics (norm type 2):
 * {@code total = sqrt(sum over params of sum g^2)}; {@code coef = maxNorm / (total + 1e-6)}; when
 * {@code coef < 1} every gradient is multiplied by {@code (float) coef}, otherwise left untouched.
 * The norm is accumulated in double (torch sums per-tensor float32 norms; the difference is below float
 * resolution for the sizes trained here and it makes the result independent of tensor boundaries).
 */
public final class GradClip {

    private GradClip() {}

    /** The total L2 norm of every gradient. */
    public static double globalNorm(List<Param> params) {
        double sq = 0;
        for (Param p : params) {
            for (float g : p.grad()) sq += (double) g * g;
        }
        return Math.sqrt(sq);
    }

    /**
     * Clips in place.
     *
     * @param maxNorm the largest allowed total norm; {@code <= 0} or infinite disables clipping
     * @return the total norm before clipping (NaN/infinite when a gradient is; then nothing is scaled)
     */
    public static double clip(List<Param> params, double maxNorm) {
        double norm = globalNorm(params);
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm) || !Double.isFinite(norm)) return norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) scale(params, (float) coef);
        return norm;
    }

    /** Multiplies every gradient by {@code factor}. */
    public static void scale(List<Param> params, float factor) {
        for (Param p : params) {
            float[] g = p.grad();
            for (int i = 0; i < g.length; i++) g[i] *= factor;
        }
    }
}

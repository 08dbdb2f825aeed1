package ai.polyv.core.cpu;

/**
 * The error function, the one copy in polyv: the double-precision reference every scalar reference (and the
 * autograd tape) uses, and the documentation of the float32 approximation the fast kernels use
 * ({@code VectorOps.erfcNonNeg} and its vector twin).
 *
 * <p>Reference ({@link #erfRef}): Abramowitz &amp; Stegun 7.1.6, {@code erf(x) = 2/sqrt(pi) exp(-x^2)
 * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))}, a series of positive terms (no cancellation), summed to double
 * precision; {@code |x| >= 6} returns {@code +-1} ({@code erfc(6) < 3e-17}).
 *
 * <p>Float approximation ({@code VectorOps.erf}, {@code VectorOps.erfcNonNeg}): two pieces with coefficients fitted for this
 * project (least squares on Chebyshev nodes, refined by hand for the max error; see {@code ErfTest}):
 * {@code |x| < 1}: {@code x * P(x^2)}; {@code 1 <= |x| < 4}: {@code erfc(|x|) = exp(-x^2) * Q(|x|)}, with
 * {@code x^2} split into a rounded part and its FMA residual so that {@code exp(-x^2)} keeps float accuracy;
 * {@code |x| >= 4}: erfc = exp(-x^2) * Q(4 clamped) tail, erf = +-1. The erfc form keeps relative accuracy
 * in the tail, which GELU needs for negative inputs ({@code 1 + erf(-z) = erfc(z)}).
 */
public final class Erf {
    private Erf() {}

    static final double TWO_OVER_SQRT_PI = 1.1283791670955126;

    /** erf(x) in double precision (reference). */
    public static double erfRef(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 6) return Math.copySign(1.0, x);
        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int n = 1; n < 400; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return Math.copySign(TWO_OVER_SQRT_PI * Math.exp(-x2) * sum, x);
    }

    /** erfc(x) = 1 - erf(x) in double precision (reference, relative accuracy kept for large x via erfcRefPositive). */
    public static double erfcRef(double x) {
        if (x < 0.5) return 1.0 - erfRef(x);
        return erfcRefPositive(x);
    }

    // erfc for x >= 0.5 by the continued fraction (A&S 7.1.14) evaluated with Lentz's method
    private static double erfcRefPositive(double x) {
        if (x > 27) return 0.0;
        if (x < 2) return 1.0 - erfRef(x);
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int i = 1; i < 500; i++) {
            double a = i * 0.5;
            d = x + a * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }

    /** GELU with exact erf in double precision: 0.5 x (1 + erf(x / sqrt 2)) (reference). */
    public static double geluRef(double x) {
        double z = x / Math.sqrt(2.0);
        return x < 0 ? 0.5 * x * erfcRef(-z) : 0.5 * x * (1 + erfRef(z));
    }
}

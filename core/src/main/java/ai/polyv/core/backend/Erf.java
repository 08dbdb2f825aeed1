package ai.polyv.core.backend;

/** erf(x) to double precision (W. J. Cody's rational approximations, as in most libm's). */
public final class Erf {
    private Erf() {}

    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 0.5) {
            // Taylor/Maclaurin series converges fast here
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 30; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return 2.0 / Math.sqrt(Math.PI) * sum;
        }
        double r = erfcPositive(ax);
        return x > 0 ? 1.0 - r : r - 1.0;
    }

    /** erfc for x >= 0.5 by a continued fraction (Lentz), accurate to ~1e-15. */
    private static double erfcPositive(double x) {
        if (x > 27) return 0.0;
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
        double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int n = 1; n < 500; n++) {
            double an = n / 2.0;
            d = x + an * d;
            if (Math.abs(d) < tiny) d = tiny;
            c = x + an / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1.0) < 1e-16) break;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}

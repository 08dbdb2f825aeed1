package ai.polyv.testsupport;

/**
 * The relative error every numeric test uses: {@code ||actual - expected||_2 / ||expected||_2}, computed in double
 * (differences taken after widening), with the denominator floored at {@code 1e-30} so an all-zero expected
 * vector gives the absolute error scaled up instead of NaN. The golden tolerance (relative L2 <= 1e-4) is
 * stated against this measure.
 */
public final class RelativeError {
    private RelativeError() {}

    /** Relative L2 error of {@code actual} against {@code expected} (same length). */
    public static double relL2(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException("lengths differ: " + actual.length + " vs " + expected.length);
        }
        double num = 0, den = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
    }

}

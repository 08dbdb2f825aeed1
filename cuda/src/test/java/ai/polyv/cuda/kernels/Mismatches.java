package ai.polyv.cuda.kernels;

import java.util.Arrays;

/** What a failed GPU comparison prints: the elements with the largest errors, to point at the cause. */
public final class Mismatches {
    private Mismatches() {}

    /** The {@code n} elements with the largest absolute error: {@code [index] got X, expected Y} (NaN first). */
    public static String largest(float[] want, float[] got, int n) {
        Integer[] order = new Integer[want.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(error(want[b], got[b]), error(want[a], got[a])));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, order.length); i++) {
            int e = order[i];
            sb.append(i > 0 ? ", " : "").append('[').append(e).append("] got ").append(got[e]).append(", expected ").append(want[e]);
        }
        return sb.toString();
    }

    private static double error(float want, float got) {
        double d = Math.abs((double) got - want);
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }
}

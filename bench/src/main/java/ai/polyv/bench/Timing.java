package ai.polyv.bench;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Plain-Java timing: warm-up runs, then timed runs until a count or a time budget is reached, summarised by
 * the median (robust to the other processes sharing the cores). The run index is passed to the body so it
 * can rotate through several input sets.
 */
public final class Timing {
    private Timing() {}

    /**
     * Summary of timed runs, in milliseconds.
     *
     * @param runs     timed runs
     * @param medianMs median
     * @param minMs    fastest
     * @param maxMs    slowest
     */
    public record Stats(int runs, double medianMs, double minMs, double maxMs) {
        public Stats {
            if (runs < 1) throw new IllegalArgumentException("stats need at least one run, got " + runs);
        }

        public static Stats of(double[] ms) {
            if (ms.length == 0) throw new IllegalArgumentException("stats need at least one run");
            double[] s = ms.clone();
            Arrays.sort(s);
            return new Stats(s.length, median(s), s[0], s[s.length - 1]);
        }

        public double medianSeconds() {
            return medianMs / 1e3;
        }
    }

    /**
     * How much to run.
     *
     * @param warmup        untimed runs first (at least)
     * @param warmupSeconds keep warming up until this much time is spent (so the JIT has compiled the op)
     * @param minRuns       timed runs always done
     * @param maxRuns       timed runs at most
     * @param maxSeconds    stop adding runs (beyond {@code minRuns}) once this much timed time is spent
     */
    public record Plan(int warmup, double warmupSeconds, int minRuns, int maxRuns, double maxSeconds) {
        public Plan {
            if (warmup < 0 || !(warmupSeconds >= 0) || minRuns < 1 || maxRuns < minRuns || !(maxSeconds >= 0)) {
                throw new IllegalArgumentException("timing plan: need warmup >= 0, warmupSeconds >= 0, 1 <= minRuns <= maxRuns, "
                        + "maxSeconds >= 0; got " + warmup + ", " + warmupSeconds + ", " + minRuns + ", " + maxRuns + ", " + maxSeconds);
            }
        }

        public static Plan standard(boolean quick) {
            return quick ? new Plan(3, 0.3, 5, 25, 0.3) : new Plan(5, 1.0, 11, 201, 2.0);
        }
    }

    /** Median of an ascending array (mean of the two middle values for an even length). */
    public static double median(double[] sorted) {
        int n = sorted.length;
        if (n == 0) throw new IllegalArgumentException("median of nothing");
        for (int i = 1; i < n; i++) {
            if (sorted[i] < sorted[i - 1]) throw new IllegalArgumentException("median: values are not sorted at index " + i);
        }
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /** Runs {@code body(i)} per the plan ({@code i} counts all runs, warm-up included) and returns the stats. */
    public static Stats run(Plan plan, IntConsumer body) {
        int i = 0;
        long warmStart = System.nanoTime();
        while (i < plan.warmup() || (System.nanoTime() - warmStart) / 1e9 < plan.warmupSeconds()) body.accept(i++);
        double[] ms = new double[plan.maxRuns()];
        int done = 0;
        double spent = 0;
        while (done < plan.maxRuns() && (done < plan.minRuns() || spent < plan.maxSeconds())) {
            long t0 = System.nanoTime();
            body.accept(i++);
            double s = (System.nanoTime() - t0) / 1e9;
            ms[done++] = s * 1e3;
            spent += s;
        }
        return Stats.of(Arrays.copyOf(ms, done));
    }
}

package ai.polyv.serve;

import java.util.Arrays;
import java.util.Locale;

/**
 * A Prometheus histogram (cumulative {@code _bucket{le=..}} counts, {@code _sum}, {@code _count}) in the text
 * exposition format, with one fixed label set. Thread-safe; observing is a short lock (a few per request).
 */
final class Histogram {
    /** vLLM's buckets, so dashboards written for vLLM read ours the same way (seconds). */
    static final double[] TTFT = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
            160.0, 640.0, 2560.0};
    static final double[] TPOT = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
    static final double[] LATENCY = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
            960.0, 1920.0, 7680.0};

    private final String name, help, labels;
    private final double[] bounds;
    private final long[] counts;   // [bounds.length + 1]: per bucket (not cumulative), the last is +Inf
    private double sum;
    private long count;

    /** @param labels the label set without braces ({@code model_name="demo"}), or empty */
    Histogram(String name, String help, String labels, double[] bounds) {
        this.name = name;
        this.help = help;
        this.labels = labels;
        this.bounds = bounds.clone();
        for (int i = 1; i < bounds.length; i++) if (!(bounds[i] > bounds[i - 1])) throw new IllegalArgumentException("bounds must increase");
        this.counts = new long[bounds.length + 1];
    }

    synchronized void observe(double value) {
        int i = Arrays.binarySearch(bounds, value);
        counts[i >= 0 ? i : -i - 1]++;   // le: a value equal to a bound falls in that bucket
        sum += value;
        count++;
    }

    synchronized long count() {
        return count;
    }

    synchronized void render(StringBuilder b) {
        String sep = labels.isEmpty() ? "" : labels + ",";
        String own = labels.isEmpty() ? "" : "{" + labels + "}";
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i < bounds.length; i++) {
            cumulative += counts[i];
            b.append(name).append("_bucket{").append(sep).append("le=\"").append(number(bounds[i])).append("\"} ").append(cumulative).append('\n');
        }
        cumulative += counts[bounds.length];
        b.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(cumulative).append('\n');
        b.append(name).append("_sum").append(own).append(' ').append(number(sum)).append('\n');
        b.append(name).append("_count").append(own).append(' ').append(count).append('\n');
    }

    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.format(Locale.ROOT, "%.1f", v) : String.valueOf(v);
    }
}

package ai.polyv.bench;

/** Roofline arithmetic: achieved rates and fractions of a measured ceiling. */
public final class Roofline {
    private Roofline() {}

    /** GB/s (1e9 bytes per second) of moving {@code bytes} in {@code seconds}. */
    public static double gbPerSecond(double bytes, double seconds) {
        requirePositive(seconds);
        return bytes / seconds / 1e9;
    }

    /** GFLOP/s of {@code flops} in {@code seconds}. */
    public static double gflopPerSecond(double flops, double seconds) {
        requirePositive(seconds);
        return flops / seconds / 1e9;
    }

    /**
     * Fraction of the ceiling an op reached: achieved GB/s over copy GB/s for memory-bound ops, achieved
     * GFLOP/s over FMA peak for compute-bound ones.
     */
    public static double fraction(Bound bound, double bytes, double flops, double seconds, Ceilings c) {
        double achieved = bound == Bound.MEMORY ? gbPerSecond(bytes, seconds) : gflopPerSecond(flops, seconds);
        return achieved / c.ceilingOf(bound);
    }

    /** The roofline floor in seconds: the larger of the memory floor and the compute floor. */
    public static double floorSeconds(double bytes, double flops, Ceilings c) {
        return Math.max(c.memoryFloorSeconds(bytes), c.computeFloorSeconds(flops));
    }

    /** Upper bound on decode tokens/s when each token reads {@code bytesPerToken} from memory. */
    public static double maxTokensPerSecond(double bytesPerToken, Ceilings c) {
        if (!(bytesPerToken > 0)) throw new IllegalArgumentException("bytes per token must be positive, got " + bytesPerToken);
        return 1.0 / c.memoryFloorSeconds(bytesPerToken);
    }

    /**
     * Expected fraction of a MoE layer's experts that {@code batch} uniformly routed tokens choose, each taking
     * {@code topK} of {@code numExperts}: {@code 1 - (1 - topK/numExperts)^batch} (topK/numExperts for one token).
     */
    public static double expertShareTouched(int topK, int numExperts, int batch) {
        return 1 - Math.pow(1 - (double) topK / numExperts, batch);
    }

    private static void requirePositive(double seconds) {
        if (!(seconds > 0)) throw new IllegalArgumentException("time must be positive, got " + seconds + " s");
    }
}

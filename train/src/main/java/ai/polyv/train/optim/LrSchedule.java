package ai.polyv.train.optim;

/**
 * Learning-rate schedules (docs/spec.md §2, paper Table 6): a linear warm-up from 0 over the first
 * {@code warmupSteps} optimizer steps, then either a cosine decay from the base rate to a floor at the
 * last step or the base rate held constant. Same formulas as HF {@code get_cosine_schedule_with_warmup}
 * and {@code get_constant_schedule_with_warmup}: the rate of the optimizer step with 0-based index
 * {@code k} is
 * <pre>
 *   warm-up  (k &lt; W):  base * k / W
 *   cosine   (k &gt;= W): floor + (base - floor) * 0.5 * (1 + cos(pi * (k - W) / max(1, N - W)))
 *   constant (k &gt;= W): base
 * </pre>
 * so the very first step runs at rate 0 when there is a warm-up (as in HF), and {@code W =
 * ceil(warmupRatio * N)} (HF {@code TrainingArguments.get_warmup_steps}).
 */
public sealed interface LrSchedule permits LrSchedule.WarmupCosine, LrSchedule.WarmupConstant {

    /** The rate for the optimizer step with 0-based index {@code step}. */
    double lr(long step);

    /** The base (peak) rate. */
    double base();

    /** Warm-up length in steps. */
    long warmupSteps();

    /** Name used on the command line and in checkpoints: {@code cosine} or {@code constant}. */
    String kind();

    /**
     * Cosine decay to {@code floor} over {@code totalSteps}.
     *
     * @param floor the rate at step {@code totalSteps} (0 in the paper; the last step {@code N-1} runs just above it)
     */
    record WarmupCosine(double base, long warmupSteps, long totalSteps, double floor) implements LrSchedule {
        public WarmupCosine {
            check(base, warmupSteps, totalSteps);
            if (!(floor >= 0 && floor <= base)) throw new IllegalArgumentException("cosine floor must be in [0, base lr " + base + "], got " + floor);
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) return base * step / warmupSteps;
            double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
            return floor + (base - floor) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
        }

        @Override
        public String kind() {
            return "cosine";
        }
    }

    /** Constant after the warm-up. */
    record WarmupConstant(double base, long warmupSteps) implements LrSchedule {
        public WarmupConstant {
            check(base, warmupSteps, Long.MAX_VALUE);
        }

        @Override
        public double lr(long step) {
            return step < warmupSteps ? base * step / warmupSteps : base;
        }

        @Override
        public String kind() {
            return "constant";
        }
    }

    /**
     * A schedule by name.
     *
     * @param kind        {@code cosine} or {@code constant}
     * @param warmupRatio fraction of {@code totalSteps} spent warming up, in [0, 1]
     * @param floor       the cosine floor (ignored by {@code constant})
     */
    static LrSchedule of(String kind, double base, long totalSteps, double warmupRatio, double floor) {
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("--warmup-ratio must be in [0, 1], got " + warmupRatio);
        if (totalSteps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + totalSteps);
        long warmup = (long) Math.ceil(warmupRatio * totalSteps);
        return switch (kind) {
            case "cosine" -> new WarmupCosine(base, warmup, totalSteps, floor);
            case "constant" -> new WarmupConstant(base, warmup);
            default -> throw new IllegalArgumentException("--schedule must be cosine or constant, got \"" + kind + "\"");
        };
    }

    private static void check(double base, long warmupSteps, long totalSteps) {
        if (!(base >= 0) || Double.isInfinite(base)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + base);
        if (warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("warm-up steps must be in [0, total steps " + totalSteps + "], got " + warmupSteps);
        }
    }
}

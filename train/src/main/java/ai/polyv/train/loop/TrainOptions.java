package ai.polyv.train.loop;

import ai.polyv.train.TrainStage;

/**
 * Settings of one training run ({@code polyv train} options).
 *
 * @param steps       optimizer steps
 * @param lr          base (peak) learning rate
 * @param schedule    {@code cosine} or {@code constant}
 * @param warmupRatio fraction of the steps spent in linear warm-up
 * @param minLr       cosine floor
 * @param clip        global gradient-norm limit, 0 = no clipping
 * @param batchTokens sequence tokens per optimizer step: examples are added to a step while the total
 *                    stays within it (at least one per step); 0 = one example per step
 * @param saveEvery   checkpoint (and evaluate) every this many steps, and after the last
 * @param seed        data-order seed
 * @param weightDecay AdamW decoupled weight decay
 * @param keep        checkpoints kept on disk (the newest)
 */
public record TrainOptions(TrainStage stage, long steps, double lr, String schedule, double warmupRatio, double minLr, double clip,
                           int batchTokens, int saveEvery, long seed, double weightDecay, int keep) implements java.io.Serializable {
    public TrainOptions {
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("--lr must be positive and finite, got " + lr);
        if (!(clip >= 0)) throw new IllegalArgumentException("--clip must be >= 0 (0 = off), got " + clip);
        if (batchTokens < 0) throw new IllegalArgumentException("--batch-tokens must be >= 0, got " + batchTokens);
        if (saveEvery <= 0) throw new IllegalArgumentException("--save-every must be positive, got " + saveEvery);
        if (!(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("--min-lr must be in [0, --lr], got " + minLr);
        if (keep < 1) throw new IllegalArgumentException("--keep must be at least 1, got " + keep);
    }
}

package ai.polyv.train.checkpoint;

/**
 * The settings a run was started with. A resumed run must use the same ones (they decide the schedule,
 * the data order and the batches), so {@link #mismatch(TrainSettings)} names the first that differs.
 *
 * @param stage       {@code 2-1} or {@code 2-2}
 * @param steps       total optimizer steps
 * @param lr          base learning rate
 * @param schedule    {@code cosine} or {@code constant}
 * @param warmupRatio fraction of steps warming up
 * @param minLr       cosine floor
 * @param clip        global gradient-norm limit (0 = off)
 * @param batchTokens sequence tokens per optimizer step (0 = one example per step)
 * @param seed        data-order seed
 * @param weightDecay AdamW weight decay
 * @param dataRows    rows of the training file
 */
public record TrainSettings(String stage, long steps, double lr, String schedule, double warmupRatio, double minLr, double clip,
                            int batchTokens, long seed, double weightDecay, int dataRows) {

    /** A description of the first setting that differs ({@code --name now vs checkpoint}), or null. */
    public String mismatch(TrainSettings saved) {
        if (!stage.equals(saved.stage)) return diff("--stage", stage, saved.stage);
        if (steps != saved.steps) return diff("--steps", steps, saved.steps);
        if (Double.compare(lr, saved.lr) != 0) return diff("--lr", lr, saved.lr);
        if (!schedule.equals(saved.schedule)) return diff("--schedule", schedule, saved.schedule);
        if (Double.compare(warmupRatio, saved.warmupRatio) != 0) return diff("--warmup-ratio", warmupRatio, saved.warmupRatio);
        if (Double.compare(minLr, saved.minLr) != 0) return diff("--min-lr", minLr, saved.minLr);
        if (Double.compare(clip, saved.clip) != 0) return diff("--clip", clip, saved.clip);
        if (batchTokens != saved.batchTokens) return diff("--batch-tokens", batchTokens, saved.batchTokens);
        if (seed != saved.seed) return diff("--seed", seed, saved.seed);
        if (Double.compare(weightDecay, saved.weightDecay) != 0) return diff("--weight-decay", weightDecay, saved.weightDecay);
        if (dataRows != saved.dataRows) return diff("training rows (--data)", dataRows, saved.dataRows);
        return null;
    }

    private static String diff(String name, Object now, Object saved) {
        return name + " is " + now + " but the checkpoint was trained with " + saved;
    }
}

package ai.polyv.train.checkpoint;

import java.util.List;

/**
 * Everything of a run that is not a tensor, saved as {@code state.json} beside the tensors.
 *
 * @param format        {@link #FORMAT}
 * @param step          optimizer steps completed
 * @param optimizerStep AdamW's own step count (bias correction)
 * @param epoch         data-order epoch of the next example
 * @param cursor        position of the next example in that epoch's permutation
 * @param settings      the run's settings
 * @param history       the loss curve up to {@code step}
 */
public record TrainState(int format, long step, long optimizerStep, long epoch, int cursor, TrainSettings settings,
                         List<StepRecord> history) {
    public static final int FORMAT = 1;

    public TrainState {
        history = List.copyOf(history);
    }
}

package ai.polyv.runtime.train;

import java.util.List;

/**
 * What the training loop optimises: a fixed list of trainable parameters and one forward + backward
 * pass per example that adds that example's gradients into {@link Param#grad()} (it never zeroes them:
 * the optimizer does after a step, so several examples can accumulate into one step).
 */
public interface TrainingObjective {

    /** The trainable parameters, in a fixed order (the optimizer state follows it). */
    List<Param> params();

    /** Forward, loss and backward for one example; gradients are added to {@code params()}. */
    StepLosses forwardBackward(TrainExample example);
}

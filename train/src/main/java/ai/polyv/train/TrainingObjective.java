package ai.polyv.train;

import ai.polyv.train.autograd.Param;

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

    /**
     * Losses of one example without training on it (held-out evaluation). The loop calls it between
     * optimizer steps, when every gradient is zero. The default runs {@link #forwardBackward} and zeroes
     * the gradients again; an objective with a forward-only pass should override it.
     */
    default StepLosses evaluate(TrainExample example) {
        StepLosses l = forwardBackward(example);
        for (Param p : params()) java.util.Arrays.fill(p.grad(), 0f);
        return l;
    }
}

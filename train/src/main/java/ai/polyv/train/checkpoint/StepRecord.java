package ai.polyv.train.checkpoint;

/**
 * One optimizer step of the loss curve: the means over the step's examples of each loss term, the rate
 * used, the gradient norm before clipping, and the held-out losses when an evaluation ran after it.
 *
 * @param step      1-based optimizer step
 * @param tokens    label positions that entered the cross-entropy, summed over the step's examples
 * @param evalCe    mean held-out cross-entropy after this step, or null
 * @param evalTotal mean held-out total loss after this step, or null
 */
public record StepRecord(long step, double lr, double ce, double mseTemporal, double mseSpatial, double aux, double total,
                         double gradNorm, long tokens, Double evalCe, Double evalTotal) {

    public StepRecord withEval(double ce, double total) {
        return new StepRecord(step, lr, this.ce, mseTemporal, mseSpatial, aux, this.total, gradNorm, tokens, ce, total);
    }
}

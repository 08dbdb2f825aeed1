package ai.polyv.train;

/**
 * The loss terms of one forward pass (docs/spec.md §2): {@code total = w_ce*ce + w_t*mseTemporal +
 * w_s*mseSpatial + aux_loss_coef*aux}, where {@code aux} is the load-balancing loss summed over MoE
 * layers (unweighted). Terms that do not apply (no synergy tokens, no MoE) are 0.
 *
 * @param tokens number of label positions that entered the cross-entropy
 */
public record StepLosses(double ce, double mseTemporal, double mseSpatial, double aux, double total, int tokens) {}

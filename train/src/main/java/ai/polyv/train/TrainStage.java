package ai.polyv.train;

import ai.polyv.loader.layout.HubNames;

/**
 * The paper's fine-tuning stages as a selector of trainable checkpoint tensors by hub name (docs/spec.md §2
 * "Training objective and optimizer"): stage 2-1 trains the MoE routers and the alignment heads; stage 2-2
 * trains routers, experts and heads. Everything else is frozen in both. Names are canonical
 * ({@link HubNames}; a checkpoint in another hub naming is translated when it is read).
 * <ul>
 *   <li>router: {@code model.layers.N.mlp.gate.weight}</li>
 *   <li>expert: {@code model.layers.N.mlp.experts.E.*}</li>
 *   <li>alignment head: {@code synergy_heads.*}</li>
 * </ul>
 */
public enum TrainStage {
    STAGE_2_1("2-1", false),
    STAGE_2_2("2-2", true);

    private final String label;
    private final boolean experts;

    TrainStage(String label, boolean experts) {
        this.label = label;
        this.experts = experts;
    }

    /** {@code 2-1} or {@code 2-2}. */
    public String label() {
        return label;
    }

    /** Whether the tensor with this hub name is trained in this stage. */
    public boolean trainable(String hubName) {
        return isRouter(hubName) || hubName.startsWith(HubNames.SYNERGY_HEADS) || (experts && isExpert(hubName));
    }

    public static boolean isRouter(String hubName) {
        return HubNames.isRouter(hubName);
    }

    public static boolean isExpert(String hubName) {
        return HubNames.isExpert(hubName);
    }

    /** Parses {@code 2-1} / {@code 2-2}. */
    public static TrainStage parse(String label) {
        for (TrainStage s : values()) if (s.label.equals(label)) return s;
        throw new IllegalArgumentException("--stage must be 2-1 or 2-2, got \"" + label + "\"");
    }

    @Override
    public String toString() {
        return label;
    }
}

package ai.polyv.train.upcycle;

import ai.polyv.loader.safetensors.TensorView;

/** Where one output tensor's values come from. */
public sealed interface TensorOrigin {

    /**
     * The bytes of a tensor of an open input checkpoint (converted to the output dtype if it differs).
     *
     * @param from input label: {@code base} or {@code donor i}
     * @param view the mapped tensor (valid while the input is open)
     */
    record Copy(String from, TensorView view) implements TensorOrigin {}

    /** normal(0, std) drawn as {@link SeededInit} describes. */
    record Normal(long seed, double std) implements TensorOrigin {}

    /** All zeros (new biases). */
    record Zeros() implements TensorOrigin {}

    /** A short description for the printed plan. */
    default String describe() {
        return switch (this) {
            case Copy c -> c.from() + ":" + c.view().name();
            case Normal n -> "normal(0, " + n.std() + ") seed " + n.seed();
            case Zeros z -> "zeros";
        };
    }
}

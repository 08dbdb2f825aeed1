package ai.polyv.core.model;

/**
 * Receives named intermediates of a forward pass (names as in the golden README: {@code vision.block.0},
 * {@code hidden.3}, {@code moe.0.topk_ids}, ...). Used by {@code polyv verify} and tests; a
 * forward pass without a trace computes only what it returns.
 */
public interface ForwardTrace {

    /** A float tensor, row-major with the given shape. */
    void floats(String name, float[] values, long... shape);

    /** An integer tensor, row-major with the given shape. */
    void ints(String name, int[] values, long... shape);
}

package ai.polyv.loader.safetensors;

/**
 * Shapes are {@code long[]} dims everywhere in polyv (row-major, outermost first; the layout is written once on
 * {@code core.tensor.Tensor}); this is their one element count. Tensors, views, specs, device tensors and
 * parameters call it instead of each multiplying the dims itself.
 */
public final class Shape {
    private Shape() {}

    /**
     * Product of the dims, 1 for a scalar (empty shape). Overflow throws {@link ArithmeticException}; a negative
     * dim is left for the caller to report (it gives a negative or zero count here).
     */
    public static long numel(long... shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }
}

package ai.polyv.train.autograd;

import ai.polyv.loader.safetensors.Shape;
import java.util.Objects;

/**
 * One trainable parameter: its hub name (e.g. {@code model.layers.0.mlp.gate.weight}), shape, and
 * host F32 value and gradient of equal length. Gradients accumulate with {@code +=}; the optimizer
 * zeroes them after a step.
 *
 * @param shape dimensions, outermost first (row-major)
 * @param value {@code [numel]} current value
 * @param grad  {@code [numel]} accumulated gradient
 */
public record Param(String name, long[] shape, float[] value, float[] grad) {
    public Param {
        Objects.requireNonNull(name, "name");
        long n = Shape.numel(shape);
        if (value.length != n || grad.length != n) {
            throw new IllegalArgumentException("param " + name + ": shape has " + n + " elements, value " + value.length + ", grad " + grad.length);
        }
    }

    public static Param zeroGrad(String name, long[] shape, float[] value) {
        return new Param(name, shape, value, new float[value.length]);
    }

    public int numel() {
        return value.length;
    }
}

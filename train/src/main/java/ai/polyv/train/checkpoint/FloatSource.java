package ai.polyv.train.checkpoint;

import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.TensorOutput;
import ai.polyv.loader.safetensors.TensorSource;
import java.io.IOException;

/**
 * A heap float array written as a safetensors tensor of a floating-point dtype, encoded while it streams
 * (no second copy of the tensor is made).
 *
 * @param shape  row-major, its product is {@code values.length}
 * @param values {@code [numel]}
 */
record FloatSource(DType dtype, long[] shape, float[] values) implements TensorSource {
    FloatSource {
        if (!dtype.isFloatingPoint()) throw new IllegalArgumentException("trained tensors are written as floats, not " + dtype);
    }

    @Override
    public void writeTo(TensorOutput out) throws IOException {
        out.writeFloats(dtype, values, 0, values.length);
    }
}

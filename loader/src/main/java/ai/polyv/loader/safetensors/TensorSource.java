package ai.polyv.loader.safetensors;

import java.io.IOException;

/**
 * A tensor to be written by {@link SafetensorsWriter}: its dtype and shape are known up front (they go in the
 * header, which is written first), and its bytes are produced later by {@link #writeTo(TensorOutput)}, so a
 * large tensor can be streamed (converted, copied from another mapped file, generated) without ever being
 * held in heap. {@link TensorData} is the in-memory implementation.
 */
public interface TensorSource {
    DType dtype();

    /** Row-major shape, outermost first. */
    long[] shape();

    /**
     * Writes exactly {@code numel(shape) * dtype.byteSize()} little-endian bytes, in order. Called once per
     * write, in the file's data order. The writer fails, naming the tensor, if the count differs.
     */
    void writeTo(TensorOutput out) throws IOException;
}

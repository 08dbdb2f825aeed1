package ai.polyv.core.backend;

import ai.polyv.core.tensor.Tensor;

/** Owner of a group of activation tensors; {@link #close()} frees them all (try-with-resources). */
public interface Workspace extends AutoCloseable {

    /** A zero-filled contiguous F32 tensor of the given shape. */
    Tensor f32(long... shape);

    /** A tensor holding a copy of {@code values} with the given shape. */
    default Tensor f32(float[] values, long... shape) {
        Tensor t = f32(shape);
        backend().upload(values, t);
        return t;
    }

    Backend backend();

    @Override
    void close();
}

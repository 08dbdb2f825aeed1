package ai.polyv.loader.safetensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** The sink a {@link TensorSource} streams its bytes into (buffered; little-endian encodings). */
public interface TensorOutput {
    /** Raw bytes, already in the tensor's little-endian encoding. */
    void write(MemorySegment bytes) throws IOException;

    /** Raw bytes, already in the tensor's little-endian encoding. */
    default void write(byte[] bytes, int offset, int length) throws IOException {
        write(MemorySegment.ofArray(bytes).asSlice(offset, length));
    }

    /**
     * Floats encoded as {@code dtype} (F32, F64, F16 or BF16; F16 and BF16 round to nearest even, NaN stays
     * NaN).
     */
    void writeFloats(DType dtype, float[] values, int offset, int length) throws IOException;
}

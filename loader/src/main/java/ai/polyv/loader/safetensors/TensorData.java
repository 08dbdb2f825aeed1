package ai.polyv.loader.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * A tensor held in memory (heap or native) or a zero-copy slice of another mapped file, ready to be written:
 * {@code bytes} are exactly {@code numel(shape) * dtype.byteSize()} little-endian bytes.
 *
 * @param dtype element type
 * @param shape row-major shape
 * @param bytes the tensor's bytes (not copied; must stay valid until written)
 */
public record TensorData(DType dtype, long[] shape, MemorySegment bytes) implements TensorSource {
    public TensorData {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        long expected = TensorView.byteSize(TensorView.numel(shape, "<tensor data>"), dtype, "<tensor data>");
        if (bytes.byteSize() != expected) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor data: %s %s needs %d bytes, found %d", dtype, Arrays.toString(shape), expected,
                    bytes.byteSize()));
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void writeTo(TensorOutput out) throws IOException {
        out.write(bytes);
    }

    /** The bytes of a tensor of an open file (zero-copy: the file must stay open until written). */
    public static TensorData of(TensorView view) {
        return new TensorData(view.dtype(), view.shape(), view.data());
    }

    /** Raw little-endian bytes (not copied). */
    public static TensorData ofBytes(DType dtype, long[] shape, byte[] littleEndian) {
        return new TensorData(dtype, shape, MemorySegment.ofArray(littleEndian));
    }

    /** float32 values. */
    public static TensorData f32(long[] shape, float... values) {
        return fromFloats(DType.F32, shape, values);
    }

    /** Floats encoded as F32, F64, F16 or BF16 (round to nearest even). */
    public static TensorData fromFloats(DType dtype, long[] shape, float[] values) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * dtype.byteSize());
        Encoding.encodeFloats(dtype, values, 0, values.length, seg, 0);
        return new TensorData(dtype, shape, seg);
    }

    /** Integers encoded as I64, I32, I16, I8, U8 or BOOL; fails naming the element if a value does not fit. */
    public static TensorData fromLongs(DType dtype, long[] shape, long[] values) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * dtype.byteSize());
        for (int i = 0; i < values.length; i++) {
            long v = values[i];
            boolean fits = switch (dtype) {
                case I64 -> true;
                case I32 -> v == (int) v;
                case I16 -> v == (short) v;
                case I8 -> v == (byte) v;
                case U8 -> v >= 0 && v <= 255;
                case BOOL -> v == 0 || v == 1;
                case F64, F32, F16, BF16 -> throw new SafetensorsException("fromLongs needs an integer dtype, found " + dtype);
            };
            if (!fits) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "element %d = %d does not fit in %s", i, v, dtype));
            }
            switch (dtype) {
                case I64 -> seg.setAtIndex(TensorView.I64_LE, i, v);
                case I32 -> seg.setAtIndex(TensorView.I32_LE, i, (int) v);
                case I16 -> seg.setAtIndex(TensorView.I16_LE, i, (short) v);
                default -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) v);
            }
        }
        return new TensorData(dtype, shape, seg);
    }

    /** int64 values. */
    public static TensorData i64(long[] shape, long... values) {
        return fromLongs(DType.I64, shape, values);
    }

    /** int32 values. */
    public static TensorData i32(long[] shape, int... values) {
        return fromLongs(DType.I32, shape, Arrays.stream(values).asLongStream().toArray());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && bytes.byteSize() == t.bytes.byteSize() && bytes.mismatch(t.bytes) == -1;
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + Arrays.toString(shape) + "]";
    }
}

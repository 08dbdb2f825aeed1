package ai.polyv.loader.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * A zero-copy view of one tensor: its name, dtype, shape and a {@link MemorySegment} slice of exactly its
 * bytes (little-endian, row-major, not necessarily aligned) inside a memory-mapped file. The view is valid
 * while the {@link SafetensorsFile} (or {@link Checkpoint}) it came from is open; after close, reading
 * {@link #data()} fails with {@link IllegalStateException}.
 *
 * <p>Conversions ({@link #toFloatArray()}, {@link #copyToFloat32(MemorySegment)}, {@link #toLongArray()},
 * {@link #toIntArray()}) copy; {@link #data()} does not.
 */
public final class TensorView {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Layout of {@link #copyToFloat32} output: native order (little-endian on every platform polyv runs on). */
    private static final ValueLayout.OfFloat F32_NATIVE = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Elements converted per chunk in streaming conversions, so a multi-GB tensor never sits in heap. */
    private static final int CHUNK = 1 << 16;
    /** Largest Java array length that is safe to allocate. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final MemorySegment data;

    /**
     * @param data exactly {@code numel(shape) * dtype.byteSize()} bytes
     * @throws SafetensorsException if the shape is invalid or the segment size does not match it
     */
    public TensorView(String name, DType dtype, long[] shape, MemorySegment data) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.numel = numel(this.shape, name);
        this.data = Objects.requireNonNull(data, "data");
        long expected = byteSize(numel, dtype, name);
        if (data.byteSize() != expected) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": %s %s needs %d bytes, data has %d", name, dtype, Arrays.toString(shape),
                    expected, data.byteSize()));
        }
    }

    /** {@link Shape#numel}, checked for a file: rejects negative dims and overflow, naming the tensor. */
    public static long numel(long[] shape, String tensorName) {
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "tensor \"%s\": field \"shape\": dim %d is negative (%d)", tensorName, i, shape[i]));
            }
            try {
                n = Math.multiplyExact(n, shape[i]);
            } catch (ArithmeticException e) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "tensor \"%s\": field \"shape\": element count of %s overflows 64 bits",
                        tensorName, Arrays.toString(shape)));
            }
        }
        return n;
    }

    /** {@code numel * dtype.byteSize()}, rejecting overflow. */
    public static long byteSize(long numel, DType dtype, String tensorName) {
        try {
            return Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": byte size of %d %s elements overflows 64 bits", tensorName, numel, dtype));
        }
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape (row-major, outermost first). */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    public long numel() {
        return numel;
    }

    /** Bytes of tensor data: {@code numel() * dtype().byteSize()}. */
    public long byteSize() {
        return data.byteSize();
    }

    /** Exactly the tensor's bytes (little-endian), a read-only slice of the mapped file. */
    public MemorySegment data() {
        return data;
    }

    /** The elements converted to float32 (exact for F32/F16/BF16, rounded for F64 and large integers). */
    public float[] toFloatArray() {
        float[] out = new float[checkedArrayLength()];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = floatAt(i);
        }
        return out;
    }

    /**
     * Writes the elements converted to float32 (native byte order) into {@code dst}, which must be exactly
     * {@code numel() * 4} bytes. Streams in chunks: no heap copy of the tensor is made.
     */
    public void copyToFloat32(MemorySegment dst) {
        long need = numel * 4;
        if (dst.byteSize() != need) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": copyToFloat32 needs a destination of %d bytes (%d float32), got %d",
                    name, need, numel, dst.byteSize()));
        }
        if (dtype == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            MemorySegment.copy(data, 0, dst, 0, need);
            return;
        }
        float[] buf = new float[(int) Math.min(CHUNK, Math.max(numel, 1))];
        for (long start = 0; start < numel; start += buf.length) {
            int n = (int) Math.min(buf.length, numel - start);
            for (int i = 0; i < n; i++) {
                buf[i] = floatAt(start + i);
            }
            MemorySegment.copy(buf, 0, dst, F32_NATIVE, start * 4, n);
        }
    }

    /** Integer (and BOOL as 0/1) elements as {@code long}; U8 is unsigned. */
    public long[] toLongArray() {
        requireInteger("toLongArray");
        long[] out = new long[checkedArrayLength()];
        for (int i = 0; i < out.length; i++) {
            out[i] = longAt(i);
        }
        return out;
    }

    /** Integer elements as {@code int}; fails naming the element if an I64 value does not fit. */
    public int[] toIntArray() {
        requireInteger("toIntArray");
        int[] out = new int[checkedArrayLength()];
        for (int i = 0; i < out.length; i++) {
            long v = longAt(i);
            if (v != (int) v) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "tensor \"%s\": element %d = %d does not fit in int", name, i, v));
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** A heap copy of the raw little-endian bytes. */
    public byte[] toByteArray() {
        if (data.byteSize() > MAX_ARRAY) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": %d bytes do not fit in a Java array", name, data.byteSize()));
        }
        return data.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Element {@code i} (flat row-major index) converted to float32. */
    public float floatAt(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case F64 -> (float) data.getAtIndex(F64_LE, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16_LE, i) & 0xffff) << 16);
            case I64 -> (float) data.getAtIndex(I64_LE, i);
            case I32 -> (float) data.getAtIndex(I32_LE, i);
            case I16 -> data.getAtIndex(I16_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case BOOL -> data.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1f : 0f;
        };
    }

    /** Element {@code i} of an integer or BOOL tensor as {@code long} (U8 unsigned, BOOL 0/1). */
    public long longAt(long i) {
        return switch (dtype) {
            case I64 -> data.getAtIndex(I64_LE, i);
            case I32 -> data.getAtIndex(I32_LE, i);
            case I16 -> data.getAtIndex(I16_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case BOOL -> data.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            case F64, F32, F16, BF16 -> throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": dtype %s is not an integer type", name, dtype));
        };
    }

    private void requireInteger(String op) {
        if (!dtype.isInteger()) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": %s needs an integer dtype, found %s", name, op, dtype));
        }
    }

    private int checkedArrayLength() {
        if (numel > MAX_ARRAY) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "tensor \"%s\": %d elements do not fit in a Java array; use copyToFloat32 or data()",
                    name, numel));
        }
        return (int) numel;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}

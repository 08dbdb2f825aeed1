package ai.polyv.core.tensor;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense tensor over a {@link MemorySegment} (off-heap, possibly a zero-copy view of a memory-mapped
 * checkpoint file).
 *
 * <p><b>Layout, written once for the whole runtime:</b> every tensor is contiguous and row-major
 * (C order). For a shape {@code [d0, d1, ..., dn-1]} the strides in elements are
 * {@code stride[n-1] = 1, stride[i] = stride[i+1] * d[i+1]}; element {@code (i0, ..., in-1)} lives at
 * byte offset {@code dtype.byteSize() * sum(i_j * stride[j])}. Values are little-endian. A 2-D tensor
 * {@code [rows, cols]} is the common case: activations are {@code [tokens, features]} F32, a Linear
 * weight is {@code [out, in]} (PyTorch order). Views ({@link #rows}, {@link #reshape}) share memory.
 *
 * <p>Where the segment lives (host RAM, or in the future device memory) is the business of the
 * {@code Backend} that created it; only host tensors may be read with {@link #getFloat}.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(DType dtype, MemorySegment data, long... shape) {
        this.dtype = requireElementType(dtype);
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        if (data.byteSize() != n * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor " + dtype + Arrays.toString(shape) + " needs " + n * dtype.byteSize()
                    + " bytes, segment has " + data.byteSize());
        }
        this.data = data;
    }

    /**
     * The element types a tensor may hold: {@link DType#F32}, {@link DType#BF16}, {@link DType#F16} (the one dtype
     * enum is the loader's, which also names the integer types a safetensors file may hold). Returns {@code t}.
     *
     * @throws IllegalArgumentException for any other dtype, naming it
     */
    public static DType requireElementType(DType t) {
        return switch (t) {
            case F32, BF16, F16 -> t;
            case null -> throw new NullPointerException("tensor dtype");
            default -> throw new IllegalArgumentException("unsupported tensor dtype " + t + " (expected F32, BF16 or F16)");
        };
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return Shape.numel(shape);
    }

    /** Rows of the tensor viewed as 2-D: product of all dimensions but the last. */
    public int rows() {
        return Math.toIntExact(numel() / Math.max(1, cols()));
    }

    /** Last dimension (1 for a scalar). */
    public int cols() {
        return shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
    }

    public MemorySegment data() {
        return data;
    }

    /** Same memory, another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        return new Tensor(dtype, data, newShape);
    }

    /** View of rows {@code [start, start+count)} of the tensor seen as 2-D {@code [rows, cols]}. */
    public Tensor rows(long start, long count) {
        long rowBytes = (long) cols() * dtype.byteSize();
        if (start < 0 || count < 0 || start + count > rows()) {
            throw new IndexOutOfBoundsException("rows [" + start + ", " + (start + count) + ") of tensor " + this);
        }
        return new Tensor(dtype, data.asSlice(start * rowBytes, count * rowBytes), count, cols());
    }

    /** Element {@code i} (flat index) as float, whatever the dtype. Host tensors only. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32_LE, i * 4);
            case BF16 -> Float.intBitsToFloat((data.get(I16_LE, i * 2) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, i * 2));
            default -> throw new IllegalStateException(dtype.toString()); // excluded by the constructor
        };
    }

    /** Sets element {@code i} of an F32 tensor. */
    public void setFloat(long i, float v) {
        if (dtype != DType.F32) throw new UnsupportedOperationException("setFloat on " + dtype + " tensor");
        data.set(F32_LE, i * 4, v);
    }

    /** Copies the whole tensor to a float array (any dtype, host tensors only). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new IllegalStateException("tensor too large for a float[]: " + this);
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        }
        return out;
    }

    /** Copies {@code values} into this F32 tensor (sizes must agree). */
    public void copyFrom(float[] values) {
        if (dtype != DType.F32 || values.length != numel()) {
            throw new IllegalArgumentException("copy of " + values.length + " floats into " + this);
        }
        MemorySegment.copy(values, 0, data, F32_LE, 0, values.length);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}

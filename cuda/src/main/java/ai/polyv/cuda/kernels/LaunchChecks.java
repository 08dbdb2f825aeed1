package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.util.Arrays;

/**
 * The argument checks every launcher runs before a launch (dtype, rank, shape, sizes, alignment); every
 * failure names the op or kernel and the tensor (an unsupported dtype is an UnsupportedOperationException,
 * anything else an IllegalArgumentException).
 */
final class LaunchChecks {
    private LaunchChecks() {}

    static void require(boolean ok, String kernel, String message) {
        if (!ok) throw new IllegalArgumentException(kernel + ": " + message);
    }

    /** dtype, rank, contiguity and 16-byte alignment of one tensor. */
    static void tensor(String kernel, DeviceTensor t, int rank, DType... dtypes) {
        require(t != null, kernel, "a required tensor is null");
        require(Arrays.asList(dtypes).contains(t.dtype()), kernel,
                t + " must be " + (dtypes.length == 1 ? dtypes[0] : "one of " + Arrays.toString(dtypes)));
        require(t.rank() == rank, kernel, t + " must have rank " + rank);
        require(t.contiguous(), kernel, t + " must be contiguous (row stride " + t.rowStride() + ")");
        require(t.byteOffset() % 16 == 0, kernel, t + " must be 16-byte aligned (byte offset " + t.byteOffset() + ")");
    }

    static void shape(String kernel, DeviceTensor t, long... expected) {
        require(Arrays.equals(t.shape(), expected), kernel, t + " must have shape " + Arrays.toString(expected));
    }

    static int intDim(String kernel, DeviceTensor t, int i) {
        long d = t.dim(i);
        require(d <= Integer.MAX_VALUE, kernel, t + " dimension " + i + " exceeds int range");
        return (int) d;
    }

    /**
     * Expert offsets {@code [M+1]}: starts at 0, non-decreasing, ends at {@code entries}.
     * Used on host copies (device offsets are produced by moe_align and trusted).
     */
    static void offsets(String kernel, int[] offsets, int experts, long entries) {
        require(offsets.length == experts + 1, kernel, "offsets has " + offsets.length + " values, expected " + (experts + 1));
        require(offsets[0] == 0, kernel, "offsets[0] is " + offsets[0] + ", expected 0");
        for (int e = 0; e < experts; e++) {
            require(offsets[e + 1] >= offsets[e], kernel,
                    "offsets must be non-decreasing: offsets[" + (e + 1) + "]=" + offsets[e + 1] + " < offsets[" + e + "]=" + offsets[e]);
        }
        require(offsets[experts] == entries, kernel, "offsets end at " + offsets[experts] + ", expected " + entries + " entries");
    }


    static void f32(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F32) throw new UnsupportedOperationException(op + ": tensor must be F32, got " + t);
        }
    }

    static void shape(String op, String what, Tensor t, long rows, long cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(op + ": " + what + " must be [" + rows + ", " + cols + "], got " + t);
        }
    }

    static void sameSize(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.numel() != ts[0].numel()) throw new IllegalArgumentException(op + ": sizes differ: " + Arrays.toString(ts));
        }
    }

    static long ptr(Tensor t) {
        return t.data().address();
    }
}

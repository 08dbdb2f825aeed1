package ai.polyv.cuda.kernels;

import ai.polyv.core.tensor.DType;
import ai.polyv.core.tensor.Tensor;
import java.util.Arrays;

/** Argument checks the launchers run before a launch (dtype, shape, sizes); messages name the op. */
final class Checks {
    private Checks() {}

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

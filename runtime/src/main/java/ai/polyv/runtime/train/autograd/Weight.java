package ai.polyv.runtime.train.autograd;

import ai.polyv.runtime.tensor.DType;
import ai.polyv.runtime.tensor.Tensor;
import java.lang.foreign.ValueLayout;

/**
 * The weight {@code W [out, in]} of a linear op: either a host var (trainable, or a host constant) or a
 * frozen checkpoint tensor read in place through {@link Tensor} (F32/BF16/F16, possibly memory-mapped),
 * which never gets a gradient.
 */
public sealed interface Weight {

    int out();

    int in();

    /** Copies {@code W[o, from:to]} to {@code dst[0:to-from]} as float32. */
    void row(int o, int from, int to, float[] dst);

    /** A host weight; its gradient (if it has a buffer) receives {@code dY^T X}. */
    record Host(Var var) implements Weight {
        @Override
        public int out() {
            return var.rows;
        }

        @Override
        public int in() {
            return var.cols;
        }

        @Override
        public void row(int o, int from, int to, float[] dst) {
            System.arraycopy(var.value, o * var.cols + from, dst, 0, to - from);
        }
    }

    /** A frozen tensor {@code [out, in]}. */
    record Frozen(Tensor tensor) implements Weight {
        public Frozen {
            if (tensor.rank() != 2) throw new IllegalArgumentException("frozen linear weight must be 2-D, got " + tensor);
        }

        @Override
        public int out() {
            return (int) tensor.dim(0);
        }

        @Override
        public int in() {
            return (int) tensor.dim(1);
        }

        @Override
        public void row(int o, int from, int to, float[] dst) {
            long base = (long) o * in() + from;
            if (tensor.dtype() == DType.F32) {
                java.lang.foreign.MemorySegment.copy(tensor.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, base * 4, dst, 0, to - from);
            } else {
                for (int i = 0; i < to - from; i++) dst[i] = tensor.getFloat(base + i);
            }
        }
    }
}

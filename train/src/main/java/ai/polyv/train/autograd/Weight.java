package ai.polyv.train.autograd;

import ai.polyv.core.cpu.WeightFormat;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
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

    /** The whole matrix {@code [out, in]}, row-major little-endian in {@link #format()}, for the CPU kernels. */
    MemorySegment segment();

    WeightFormat format();

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

        @Override
        public MemorySegment segment() {
            return MemorySegment.ofArray(var.value);
        }

        @Override
        public WeightFormat format() {
            return WeightFormat.F32;
        }
    }

    /** A frozen tensor {@code [out, in]}. */
    record Frozen(Tensor tensor) implements Weight {
        private static final ThreadLocal<short[]> HALVES = ThreadLocal.withInitial(() -> new short[0]); // BF16/F16 row bits

        public Frozen {
            if (tensor.rank() != 2) throw new IllegalArgumentException("frozen linear weight must be 2-D, got " + tensor);
        }

        @Override
        public int out() {
            return (int) tensor.dim(0);
        }

        @Override
        public MemorySegment segment() {
            return tensor.data();
        }

        @Override
        public WeightFormat format() {
            return WeightFormat.of(tensor.dtype());
        }

        @Override
        public int in() {
            return (int) tensor.dim(1);
        }

        @Override
        public void row(int o, int from, int to, float[] dst) {
            long base = (long) o * in() + from;
            int len = to - from;
            if (tensor.dtype() == DType.F32) {
                MemorySegment.copy(tensor.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, base * 4, dst, 0, len);
                return;
            }
            short[] bits = HALVES.get();
            if (bits.length < len) HALVES.set(bits = new short[len]);
            MemorySegment.copy(tensor.data(), ValueLayout.JAVA_SHORT_UNALIGNED, base * 2, bits, 0, len);
            if (tensor.dtype() == DType.BF16) {
                for (int i = 0; i < len; i++) dst[i] = Float.intBitsToFloat((bits[i] & 0xffff) << 16);
            } else {
                for (int i = 0; i < len; i++) dst[i] = Float.float16ToFloat(bits[i]);
            }
        }
    }
}

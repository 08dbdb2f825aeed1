package ai.polyv.train.upcycle;

import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.TensorOutput;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.loader.safetensors.TensorView;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.LongConsumer;
import java.util.random.RandomGenerator;

/**
 * One tensor of the output checkpoint: name, dtype, shape and origin. {@link #source(LongConsumer)} streams
 * its bytes in chunks (at most {@value #COPY_CHUNK} bytes copied, {@value #GEN_CHUNK} values generated at a
 * time), reporting each chunk's byte count, so no tensor is ever held in heap.
 *
 * @param shape row-major, outermost first
 */
public record PlannedTensor(String name, DType dtype, long[] shape, TensorOrigin origin) {
    static final int COPY_CHUNK = 8 << 20;
    static final int GEN_CHUNK = 1 << 16;

    public PlannedTensor {
        shape = shape.clone();
        if (origin instanceof TensorOrigin.Copy c && !Arrays.equals(c.view().shape(), shape)) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " differs from its source "
                    + c.view());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return TensorView.numel(shape, name);
    }

    public long byteSize() {
        return TensorView.byteSize(numel(), dtype, name);
    }

    /** The bytes as a writer source; {@code progress} receives each chunk's byte count as it is written. */
    public TensorSource source(LongConsumer progress) {
        return new TensorSource() {
            @Override
            public DType dtype() {
                return dtype;
            }

            @Override
            public long[] shape() {
                return shape.clone();
            }

            @Override
            public void writeTo(TensorOutput out) throws IOException {
                switch (origin) {
                    case TensorOrigin.Copy c -> copy(c.view(), out, progress);
                    case TensorOrigin.Normal n -> normal(n, out, progress);
                    case TensorOrigin.Zeros z -> zeros(out, progress);
                }
            }
        };
    }

    private void copy(TensorView v, TensorOutput out, LongConsumer progress) throws IOException {
        if (v.dtype() == dtype) {
            MemorySegment data = v.data();
            for (long off = 0; off < data.byteSize(); off += COPY_CHUNK) {
                long n = Math.min(COPY_CHUNK, data.byteSize() - off);
                out.write(data.asSlice(off, n));
                progress.accept(n);
            }
            return;
        }
        // dtype conversion (e.g. an F32 donor into a BF16 checkpoint), chunk by chunk
        float[] buf = new float[(int) Math.min(GEN_CHUNK, Math.max(1, v.numel()))];
        for (long start = 0; start < v.numel(); start += buf.length) {
            int n = (int) Math.min(buf.length, v.numel() - start);
            for (int i = 0; i < n; i++) {
                buf[i] = v.floatAt(start + i);
            }
            out.writeFloats(dtype, buf, 0, n);
            progress.accept((long) n * dtype.byteSize());
        }
    }

    private void normal(TensorOrigin.Normal n, TensorOutput out, LongConsumer progress) throws IOException {
        RandomGenerator g = SeededInit.generator(n.seed(), name);
        long total = numel();
        float[] buf = new float[(int) Math.min(GEN_CHUNK, Math.max(1, total))];
        for (long start = 0; start < total; start += buf.length) {
            int k = (int) Math.min(buf.length, total - start);
            for (int i = 0; i < k; i++) {
                buf[i] = (float) (g.nextGaussian() * n.std());
            }
            out.writeFloats(dtype, buf, 0, k);
            progress.accept((long) k * dtype.byteSize());
        }
    }

    private void zeros(TensorOutput out, LongConsumer progress) throws IOException {
        long total = byteSize();
        byte[] zero = new byte[(int) Math.min(GEN_CHUNK, Math.max(1, total))];
        for (long off = 0; off < total; off += zero.length) {
            int n = (int) Math.min(zero.length, total - off);
            out.write(zero, 0, n);
            progress.accept(n);
        }
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " <- " + origin.describe();
    }
}

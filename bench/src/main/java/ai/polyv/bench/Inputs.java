package ai.polyv.bench;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Deterministic pseudo-random benchmark inputs in a shared arena (so that pool threads can read them).
 * Values are uniform in {@code [-scale, scale)} from a 64-bit xorshift generator: fast enough to fill
 * gigabytes of weights, and never NaN or infinite.
 */
public final class Inputs {
    private final Arena arena;
    private long state;

    public Inputs(Arena arena, long seed) {
        this.arena = arena;
        this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    private float next(float scale) {
        long x = state;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        state = x;
        return ((x >>> 40) * 0x1p-24f * 2f - 1f) * scale;
    }

    /** A tensor of {@code dtype} and {@code shape} with values in {@code [-scale, scale)} (BF16/F16 rounded). */
    public Tensor random(DType dtype, float scale, long... shape) {
        long n = Shape.numel(shape);
        MemorySegment seg = arena.allocate(n * dtype.byteSize(), 64);
        switch (dtype) {
            case F32 -> {
                for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, next(scale));
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(next(scale)) >>> 16));
                }
            }
            case F16 -> {
                for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(next(scale)));
            }
        }
        return new Tensor(dtype, seg, shape);
    }

    /** An F32 tensor with values in {@code [-1, 1)}. */
    public Tensor f32(long... shape) {
        return random(DType.F32, 1f, shape);
    }

    /** A tensor of {@code dtype} with every element {@code value} (BF16/F16 rounded). */
    public Tensor filled(DType dtype, float value, long... shape) {
        long n = Shape.numel(shape);
        MemorySegment seg = arena.allocate(n * dtype.byteSize(), 64);
        switch (dtype) {
            case F32 -> {
                for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, value);
            }
            case BF16 -> {
                short bits = (short) ((Float.floatToRawIntBits(value) + 0x8000) >>> 16);   // round half up (exact for 0 and 1)
                for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bits);
            }
            case F16 -> {
                short bits = Float.floatToFloat16(value);
                for (long i = 0; i < n; i++) seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bits);
            }
        }
        return new Tensor(dtype, seg, shape);
    }

    /** An F32 tensor of zeros. */
    public Tensor zeros(long... shape) {
        long n = Shape.numel(shape);
        return new Tensor(DType.F32, arena.allocate(n * 4, 64), shape);
    }

    /** {@code count} ids uniform in {@code [0, bound)}. */
    public int[] ids(int count, int bound) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) out[i] = (int) ((next(1f) + 1f) * 0.5f * bound) % bound;
        return out;
    }

    /** How many input sets of {@code setBytes} make at least {@code targetBytes}, clamped to {@code [1, maxSets]}. */
    public static int rotation(long setBytes, long targetBytes, int maxSets) {
        if (setBytes <= 0) throw new IllegalArgumentException("rotation: setBytes must be positive, got " + setBytes);
        if (maxSets < 1) throw new IllegalArgumentException("rotation: maxSets must be >= 1, got " + maxSets);
        long sets = (targetBytes + setBytes - 1) / setBytes;
        return (int) Math.max(1, Math.min(maxSets, sets));
    }
}

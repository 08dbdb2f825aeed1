package ai.polyv.core.cpu;

import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element format of a weight matrix read by the CPU kernels. All formats are little-endian.
 * BF16 is the upper half of an IEEE float32; F16 is IEEE binary16. Not a second dtype enum: the element types
 * are the loader's {@link DType}; this enum is the CPU kernels' element reader/writer for the three float ones
 * ({@link #of}), so the hot loops dispatch on a three-constant enum with the accessors attached.
 */
public enum WeightFormat {
    F32(4), BF16(2), F16(2);

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort S16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int byteSize;

    WeightFormat(int byteSize) {
        this.byteSize = byteSize;
    }

    /** The format of a tensor element type (F32, BF16 or F16; the CPU kernels read no other). */
    public static WeightFormat of(DType t) {
        return switch (t) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new IllegalArgumentException("no CPU weight format for dtype " + t + " (F32, BF16 and F16 have one)");
        };
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Reads element {@code index} (in elements, not bytes) of {@code seg} as float32. */
    public float get(MemorySegment seg, long index) {
        return switch (this) {
            case F32 -> seg.getAtIndex(F32_LE, index);
            case BF16 -> Float.intBitsToFloat((seg.getAtIndex(S16_LE, index) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(S16_LE, index));
        };
    }

    /** Writes {@code value} as element {@code index}; BF16 rounds to nearest even, F16 as {@link Float#floatToFloat16}. */
    public void set(MemorySegment seg, long index, float value) {
        switch (this) {
            case F32 -> seg.setAtIndex(F32_LE, index, value);
            case BF16 -> seg.setAtIndex(S16_LE, index, toBf16(value));
            case F16 -> seg.setAtIndex(S16_LE, index, Float.floatToFloat16(value));
        }
    }

    /** float32 to bfloat16 bits, round to nearest even (NaN stays NaN). */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}

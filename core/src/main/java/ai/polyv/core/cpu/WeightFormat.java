package ai.polyv.core.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element format of a weight matrix read by the CPU kernels. All formats are little-endian.
 * BF16 is the upper half of an IEEE float32; F16 is IEEE binary16.
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

package ai.polyv.loader.safetensors;

import java.lang.foreign.MemorySegment;

/** float32 to F32/F64/F16/BF16 little-endian encodings. */
final class Encoding {
    private Encoding() {
    }

    /** float32 to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static void encodeFloats(DType dtype, float[] v, int off, int len, MemorySegment dst, long dstOffset) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(v, off, dst, TensorView.F32_LE, dstOffset, len);
            case F64 -> {
                for (int i = 0; i < len; i++) {
                    dst.set(TensorView.F64_LE, dstOffset + 8L * i, v[off + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < len; i++) {
                    dst.set(TensorView.I16_LE, dstOffset + 2L * i, Float.floatToFloat16(v[off + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < len; i++) {
                    dst.set(TensorView.I16_LE, dstOffset + 2L * i, floatToBf16(v[off + i]));
                }
            }
            default -> throw new SafetensorsException("cannot encode floats as " + dtype + " (a floating-point dtype is needed)");
        }
    }
}

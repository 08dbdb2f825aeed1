package ai.polyv.loader.safetensors;

import java.util.Locale;

/**
 * Element types of the safetensors format that polyv reads and writes. The name of each constant is
 * exactly the {@code dtype} string of the safetensors header. All multi-byte types are little-endian
 * in the file.
 */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    /** One byte per element; 0 is false, anything else is true. */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return floating;
    }

    /** True for the integer types and BOOL (everything {@link TensorView#toLongArray()} accepts). */
    public boolean isInteger() {
        return !floating;
    }

    /** The {@code dtype} string written in a safetensors header. */
    public String safetensorsName() {
        return name();
    }

    /**
     * The constant for a safetensors {@code dtype} string (exact, case-sensitive as in the format).
     *
     * @throws SafetensorsException for a dtype polyv does not support, listing the supported ones
     */
    public static DType parse(String safetensorsName) {
        if (safetensorsName != null) {
            for (DType d : values()) {
                if (d.name().equals(safetensorsName)) {
                    return d;
                }
            }
        }
        StringBuilder known = new StringBuilder();
        for (DType d : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(d.name());
        }
        throw new SafetensorsException(String.format(Locale.ROOT,
                "unknown dtype \"%s\" (supported: %s)", safetensorsName, known));
    }
}

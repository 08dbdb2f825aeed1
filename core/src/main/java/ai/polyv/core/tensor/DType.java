package ai.polyv.core.tensor;

/** Element types a {@link Tensor} may hold. Activations are always {@link #F32}; weights may be any. */
public enum DType {
    F32(4), BF16(2), F16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** Maps a safetensors dtype name ("F32", "BF16", "F16"); anything else fails with the name. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "BF16" -> BF16;
            case "F16" -> F16;
            default -> throw new IllegalArgumentException("unsupported tensor dtype " + name + " (expected F32, BF16 or F16)");
        };
    }
}

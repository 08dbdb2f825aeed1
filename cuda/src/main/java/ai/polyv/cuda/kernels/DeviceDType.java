package ai.polyv.cuda.kernels;

import ai.polyv.core.tensor.DType;

/**
 * Element types the CUDA kernels read and write, and the code a kernel's {@code int dtype} argument takes for
 * each float type (polyv_common.cuh: {@code DT_F32 0, DT_BF16 1, DT_F16 2}). I32 (ids, offsets, positions) has
 * no code: no kernel takes it as a dtype argument. F16 is read only by the dtype-generic kernels
 * ({@code convert_to_f32}, {@code embedding_gather}, F16 checkpoints); the PolyV kernels take F32 and BF16.
 */
public enum DeviceDType {
    F32(4, 0), BF16(2, 1), F16(2, 2), I32(4, -1);

    private final int byteSize;
    private final int code;

    DeviceDType(int byteSize, int code) {
        this.byteSize = byteSize;
        this.code = code;
    }

    public int byteSize() {
        return byteSize;
    }

    /** The kernel dtype code (DT_* in polyv_common.cuh); I32 has none. */
    public int code() {
        if (code < 0) throw new IllegalArgumentException(this + " has no kernel dtype code (F32, BF16 and F16 have)");
        return code;
    }

    /** The device element type of a host tensor dtype (the same name and size). */
    public static DeviceDType of(DType t) {
        return switch (t) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
        };
    }

    /** The kernel dtype code of a host tensor dtype. */
    public static int code(DType t) {
        return of(t).code();
    }
}

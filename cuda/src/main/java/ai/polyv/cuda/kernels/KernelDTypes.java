package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

/**
 * The code a kernel's {@code int dtype} argument takes for each float element type (polyv_common.cuh:
 * {@code DT_F32 0, DT_BF16 1, DT_F16 2}). The element types themselves are the one {@link DType} enum of the
 * loader (host tensors, device tensors and safetensors files share it); this mapping is the only CUDA-specific
 * part, so it lives here rather than on the enum. I32 (ids, offsets, positions) has no code: no kernel takes it
 * as a dtype argument. F16 is read only by the dtype-generic kernels ({@code convert_to_f32},
 * {@code embedding_gather}, F16 checkpoints); the PolyV kernels take F32 and BF16.
 */
public final class KernelDTypes {
    private KernelDTypes() {}

    /** The kernel dtype code (DT_* in polyv_common.cuh); only F32, BF16 and F16 have one. */
    public static int code(DType t) {
        return switch (t) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
            default -> throw new IllegalArgumentException(t + " has no kernel dtype code (F32, BF16 and F16 have)");
        };
    }
}

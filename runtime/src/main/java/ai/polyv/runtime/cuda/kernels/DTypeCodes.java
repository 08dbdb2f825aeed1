package ai.polyv.runtime.cuda.kernels;

import ai.polyv.runtime.tensor.DType;

/** Element type codes passed to kernels (polyv_common.cuh: DT_F32 0, DT_BF16 1, DT_F16 2). */
public final class DTypeCodes {
    private DTypeCodes() {}

    public static int code(DType t) {
        return switch (t) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
        };
    }
}

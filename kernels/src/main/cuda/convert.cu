// Element type conversions (weights widened at upload, GEMM inputs narrowed in bf16 mode, downloads).
// dtype codes: 0 F32, 1 BF16, 2 F16 (polyv_common.cuh). n elements. Launch: 1-D grid-stride.
#include "polyv_common.cuh"

// dst[i] = float(src[i]) for src of any dtype.
extern "C" __global__ void convert_to_f32(const void* src, int dtype, float* dst, long long n) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) dst[i] = polyv::load_as_f32(src, dtype, i);
}

// dst[i] = (bf16 or f16) src[i], round to nearest even. dtype must be BF16 or F16.
extern "C" __global__ void convert_from_f32(const float* src, int dtype, unsigned short* dst, long long n) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) {
        dst[i] = dtype == polyv::DT_BF16 ? polyv::f32_to_bf16(src[i]) : polyv::f32_to_f16(src[i]);
    }
}

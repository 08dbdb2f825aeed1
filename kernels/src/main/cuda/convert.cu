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

// Benchmark weights made on the device (never on the host): dst[i] = uniform in [-half_width, half_width),
// from a counter-based hash (splitmix64 of seed * golden + i), so every element is independent of the launch
// shape. dtype: F32 (float* dst) or BF16 (unsigned short* dst, round to nearest even). The same function in
// Java: ai.polyv.cuda.DeviceRandomWeights.value.
__device__ __forceinline__ float polyv_random_uniform(unsigned long long seed, long long i, float half_width) {
    unsigned long long z = seed * 0x9E3779B97F4A7C15ull + (unsigned long long) i;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    float u = (float) (z >> 40) * (1.0f / 16777216.0f);    // 24 bits: [0, 1)
    return (2.0f * u - 1.0f) * half_width;
}

extern "C" __global__ void random_uniform(void* dst, int dtype, long long n, unsigned long long seed, float half_width) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) {
        float v = polyv_random_uniform(seed, i, half_width);
        if (dtype == polyv::DT_BF16) ((unsigned short*) dst)[i] = polyv::f32_to_bf16(v);
        else ((float*) dst)[i] = v;
    }
}

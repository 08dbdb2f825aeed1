// Exact (erf) GELU: out[i] = 0.5 * x * (1 + erf(x / sqrt(2))). F32, n elements, out may be x.
// Launch: 1-D grid-stride.
#include "polyv_common.cuh"

extern "C" __global__ void gelu_erf_f32(const float* x, float* out, long long n) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) {
        const float v = x[i];
        out[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
    }
}

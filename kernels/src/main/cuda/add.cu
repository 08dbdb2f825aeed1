// Elementwise sum: out[i] = a[i] + b[i]. F32, n elements; out may alias a or b. Launch: 1-D grid-stride.
#include "polyv_common.cuh"

extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) out[i] = a[i] + b[i];
}

// Row-broadcast bias after a GEMM: out[r, c] += bias[c]. out [rows, cols] F32, bias [cols] F32.
// Launch: 1-D grid-stride over rows * cols.
#include "polyv_common.cuh"

extern "C" __global__ void bias_add_f32(float* out, const float* bias, long long rows, int cols) {
    const long long n = rows * cols;
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) out[i] += bias[i % cols];
}

// RMSNorm: out[r, c] = w[c] * (x[r, c] / sqrt(mean_c(x[r, :]^2) + eps)).
// x, out [rows, d] F32 (out may be x: each element is read, then written by the same thread);
// w [d] F32. Launch: grid = rows, block = 256 (a multiple of 32, <= 1024).
#include "polyv_common.cuh"

extern "C" __global__ void rms_norm_f32(const float* x, const float* w, float* out, int rows, int d, float eps) {
    const int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + static_cast<long long>(r) * d;
    float* orow = out + static_cast<long long>(r) * d;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
        const float v = xr[c];
        ss += v * v;
    }
    ss = polyv::block_sum(ss);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(d) + eps);
    for (int c = threadIdx.x; c < d; c += blockDim.x) orow[c] = w[c] * (xr[c] * inv);
}

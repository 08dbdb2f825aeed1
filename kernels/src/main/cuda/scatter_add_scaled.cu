// Weighted combine: out[index[i], :] += scale[i] * src[i, :] for i < count, in order of i.
// src [count, d], out [rows, d] F32; index [count] int32, scale [count] F32.
//  - scatter_add_scaled_unique: index has no repeated row (the host checks): one block per i.
//    Launch: grid = count, block = 256.
//  - scatter_add_scaled_ordered: any index; each thread owns columns and walks i in order, so the
//    float sums happen in the reference order. Launch: 1-D grid over d columns.
#include "polyv_common.cuh"

extern "C" __global__ void scatter_add_scaled_unique(const float* src, const int* index, const float* scale, float* out, int count, int d) {
    const int i = blockIdx.x;
    if (i >= count) return;
    const float s = scale[i];
    const float* srow = src + static_cast<long long>(i) * d;
    float* orow = out + static_cast<long long>(index[i]) * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) orow[c] += s * srow[c];
}

extern "C" __global__ void scatter_add_scaled_ordered(const float* src, const int* index, const float* scale, float* out, int count, int d) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= d) return;
    for (int i = 0; i < count; i++) {
        out[static_cast<long long>(index[i]) * d + c] += scale[i] * src[static_cast<long long>(i) * d + c];
    }
}

// Embedding lookup: out[i, :] = float(table[ids[i], :]). table [vocab, d] F32/BF16/F16 (dtype code),
// ids [n] int32 (range-checked on the host), out [n, d] F32. Launch: grid = n, block = 256.
#include "polyv_common.cuh"

extern "C" __global__ void embedding_gather(const void* table, int dtype, const int* ids, int n, int d, float* out) {
    const int i = blockIdx.x;
    if (i >= n) return;
    const long long base = static_cast<long long>(ids[i]) * d;
    float* orow = out + static_cast<long long>(i) * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) orow[c] = polyv::load_as_f32(table, dtype, base + c);
}

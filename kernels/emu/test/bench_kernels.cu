// Test-only kernel for kernels/emu/test/emu_bench.cpp: a warp-shuffle-heavy loop (iters warp_sums of
// 5 __shfl_xor_sync each per thread), out[blockIdx.x * blockDim.x + threadIdx.x] = the last sum.
#include "polyv_common.cuh"

extern "C" __global__ void emu_bench_shuffle(const float* x, float* out, int iters) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = x[i], s = 0.f;
    for (int it = 0; it < iters; ++it) s = polyv::warp_sum(v + s * 1e-3f);
    out[i] = s;
}

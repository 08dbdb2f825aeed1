// Test-only kernels (block reduction, warp shuffles) that must pass the emulator's checks.
#include "polyv_common.cuh"

// out[blockIdx.x] = sum of x[blockIdx.x * blockDim.x + threadIdx.x] (polyv::block_sum).
extern "C" __global__ void emu_test_block_sum(const float* x, float* out) {
    const float v = x[blockIdx.x * blockDim.x + threadIdx.x];
    const float s = polyv::block_sum(v);
    if (threadIdx.x == 0) out[blockIdx.x] = s;
}

// Shuffles of one warp: out[lane * 8 + ...] = idx, up, down, xor (width 32 and 8), ballot, match_any.
extern "C" __global__ void emu_test_shuffles(const int* x, int* out) {
    const int lane = threadIdx.x;
    const int v = x[lane];
    int* o = out + lane * 8;
    o[0] = __shfl_sync(0xffffffffu, v, (lane * 7) & 31);
    o[1] = __shfl_up_sync(0xffffffffu, v, 3);
    o[2] = __shfl_down_sync(0xffffffffu, v, 5, 8);
    o[3] = __shfl_xor_sync(0xffffffffu, v, 9);
    o[4] = __shfl_sync(0xffffffffu, v, 37, 16);  // out-of-range source lane: modulo width
    o[5] = (int)__ballot_sync(0xffffffffu, v & 1);
    o[6] = (int)__match_any_sync(0xffffffffu, v % 3);
    o[7] = lane < 16 ? __shfl_xor_sync(0x0000ffffu, v, 1) : -1;  // partial mask, only its lanes take part
}

// The two half warps shuffle at the same time, each with its own mask (two collectives of one warp in
// flight together), then the whole warp; out[lane] = x[lane ^ 1] + x[lane ^ 16]. block = 32.
extern "C" __global__ void emu_test_half_warps(const int* x, int* out) {
    const int lane = threadIdx.x;
    const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
    const int a = __shfl_xor_sync(mask, x[lane], 1);
    const int b = __shfl_xor_sync(0xffffffffu, x[lane], 16);
    out[lane] = a + b;
}

// Test-only BROKEN kernels: each must be reported by the emulator (kernels/emu/test/emu_selftest.cpp).
#include <stdint.h>

#include "polyv_mma.cuh"

// Missing __syncthreads: thread i adds its neighbour's shared value without a barrier. block = 64.
extern "C" __global__ void emu_test_missing_sync(const float* x, float* out) {
    __shared__ float s[64];
    const int i = threadIdx.x;
    s[i] = x[i];
    out[i] = s[i] + s[(i + 1) & 63];  // needs __syncthreads() before this line
}

// Race: every thread writes the same word. block = 64.
extern "C" __global__ void emu_test_shared_race(float* out) {
    __shared__ float s;
    s = (float)threadIdx.x;
    __syncthreads();
    if (threadIdx.x == 0) out[0] = s;
}

// Read of an element nobody wrote: s[63] is never written. block = 64.
extern "C" __global__ void emu_test_uninit_shared(float* out) {
    __shared__ float s[64];
    if (threadIdx.x < 63) s[threadIdx.x] = 1.0f;
    __syncthreads();
    out[threadIdx.x] = s[63 - threadIdx.x];
}

// Writes one element past the end of out[n]: the last thread writes out[n] (any block size <= n + 1; the
// self-test launches 64 threads with n = 64, the driver test 1 thread with n = its element count).
extern "C" __global__ void emu_test_oob_write(float* out, int n) {
    out[n - static_cast<int>(blockDim.x) + 1 + static_cast<int>(threadIdx.x)] = 1.0f;
}

// Reads one element past the end of x[n].
extern "C" __global__ void emu_test_oob_read(const float* x, float* out, int n) {
    out[threadIdx.x] = x[threadIdx.x + 1];  // thread n-1 reads x[n]
    (void)n;
}

// ldmatrix with the row addresses off by one: lane l gives row (l % 16) + 1, so two lanes name the
// same row and lane 15 / 31 name row 16, which this kernel never writes (the emulator reports that
// read; with the tile padded to 17 written rows the result is just wrong, which the self-test
// checks against the CPU reference). block = 32.
extern "C" __global__ void emu_test_ldmatrix_bad_rows(const unsigned short* a, int pad, unsigned* out) {
    __shared__ __align__(16) unsigned short s[17 * 16];
    const int lane = threadIdx.x;
    const int rows = pad ? 17 : 16;
    for (int i = lane; i < rows * 16; i += 32) s[i] = a[i % 256];
    __syncwarp();
    uint32_t r[4];
    polyv::ldmatrix_x4(r[0], r[1], r[2], r[3], &s[((lane & 15) + 1) * 16 + (lane >> 4) * 8]);
    for (int i = 0; i < 4; ++i) out[lane * 4 + i] = r[i];
}

// Full-mask shuffle while half the warp took another branch. block = 32.
extern "C" __global__ void emu_test_partial_shuffle(const int* x, int* out) {
    const int lane = threadIdx.x;
    int v = x[lane];
    if (lane < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
    out[lane] = v;
}

// __syncthreads in divergent code: the two halves wait at different barriers. block = 64.
extern "C" __global__ void emu_test_divergent_sync(float* out) {
    __shared__ float s[64];
    s[threadIdx.x] = 1.0f;
    if (threadIdx.x < 32) {
        __syncthreads();
        out[threadIdx.x] = s[threadIdx.x ^ 32];
    } else {
        __syncthreads();
        out[threadIdx.x] = s[threadIdx.x ^ 32];
    }
}

// Deadlock: lanes 0..15 wait at __syncthreads, lanes 16..31 wait in a shuffle for them. block = 32.
extern "C" __global__ void emu_test_deadlock(int* out) {
    const int lane = threadIdx.x;
    if (lane < 16) __syncthreads();
    out[lane] = __shfl_sync(0xffffffffu, lane, 0);
}

// Declares 128 threads; the self-test launches 256.
extern "C" __global__ void __launch_bounds__(128) emu_test_launch_bounds(float* out) { out[threadIdx.x] = 0.f; }

// cp.async destination read before cp.async.wait_group. block = 32.
extern "C" __global__ void emu_test_cp_async_no_wait(const unsigned short* a, float* out) {
    __shared__ __align__(16) unsigned short s[32 * 8];
    const int lane = threadIdx.x;
    polyv::cp_async_16(&s[lane * 8], a + lane * 8, 16);
    polyv::cp_async_commit();
    out[lane] = (float)s[lane * 8];  // needs cp_async_wait<0>() first
}

// Each half warp shuffles with its own mask, but lanes 16..31 name the whole warp. block = 32.
extern "C" __global__ void emu_test_mask_mismatch(const int* x, int* out) {
    const int lane = threadIdx.x;
    const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffffffffu;
    out[lane] = __shfl_xor_sync(mask, x[lane], 1);
}

// A full-mask shuffle in a block of 16 threads: lanes 16..31 do not exist. block = 16.
extern "C" __global__ void emu_test_missing_lanes(const int* x, int* out) {
    const int lane = threadIdx.x;
    out[lane] = __shfl_xor_sync(0xffffffffu, x[lane], 1);
}

// Test-only kernels that must pass the emulator's checks (kernels/emu/test/emu_selftest.cpp).
#include <stdint.h>

#include "polyv_mma.cuh"

// One m16n8k16 tile through the real helpers: a [16][16] bf16 row-major, b [8][16] bf16 (column n of
// B = row n, k contiguous, as the expert weights), c [16][8] fp32 = a . b^T. block = 32, grid = 1.
// Usable from Java to compare against a warp-fragment emulator.
extern "C" __global__ void emu_test_mma_tile(const unsigned short* a, const unsigned short* b, float* c) {
    __shared__ __align__(16) unsigned short sA[16 * 16];
    __shared__ __align__(16) unsigned short sB[8 * 16];
    const int lane = threadIdx.x;
    for (int i = lane; i < 16 * 2; i += 32) polyv::cp_async_16(&sA[i * 8], a + i * 8, 16);
    for (int i = lane; i < 8 * 2; i += 32) polyv::cp_async_16(&sB[i * 8], b + i * 8, 16);
    polyv::cp_async_commit();
    polyv::cp_async_wait<0>();
    __syncwarp();
    uint32_t af[4], bf[4];
    polyv::ldmatrix_x4(af[0], af[1], af[2], af[3], &sA[(lane & 15) * 16 + (lane >> 4) * 8]);
    // B as two 8x8 matrices (k 0..7, k 8..15) of the 8 rows n; x4 reads them twice (lanes 16..31 repeat).
    polyv::ldmatrix_x4(bf[0], bf[1], bf[2], bf[3], &sB[(lane & 7) * 16 + ((lane >> 3) & 1) * 8]);
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    polyv::mma_bf16_16816(acc, af, bf[0], bf[1]);
    const int g = lane >> 2, t = lane & 3;
    c[g * 8 + 2 * t] = acc[0];
    c[g * 8 + 2 * t + 1] = acc[1];
    c[(g + 8) * 8 + 2 * t] = acc[2];
    c[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

// ldmatrix .trans of one 16x16 bf16 tile: out[lane * 4 + i] = register i of lane. block = 32.
extern "C" __global__ void emu_test_ldmatrix(const unsigned short* a, int trans, unsigned* out) {
    __shared__ __align__(16) unsigned short s[16 * 16];
    const int lane = threadIdx.x;
    for (int i = lane; i < 256; i += 32) s[i] = a[i];
    __syncwarp();
    uint32_t r[4];
    const unsigned short* p = &s[(lane & 15) * 16 + (lane >> 4) * 8];
    if (trans) polyv::ldmatrix_x4_trans(r[0], r[1], r[2], r[3], p);
    else polyv::ldmatrix_x4(r[0], r[1], r[2], r[3], p);
    for (int i = 0; i < 4; ++i) out[lane * 4 + i] = r[i];
}


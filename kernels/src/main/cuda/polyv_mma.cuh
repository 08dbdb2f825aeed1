// Shared device helpers for the PolyV tensor-core kernels (expert_ffn.cu, window_attention.cu):
// cp.async copies with zero fill, ldmatrix, mma.sync m16n8k16 (bf16 in, fp32 accumulate), warp
// reductions. Header only; every function is __device__ __forceinline__. Requires sm_80 or newer.
// With POLYV_EMU (host build, kernels/emu) the inline PTX calls the emulator's warp-collective
// versions declared in kernels/emu/cuda_emu.h instead.
//
// Fragment layouts (PTX ISA, "mma.m16n8k16" for .bf16), lane = threadIdx.x % 32, g = lane / 4,
// t = lane % 4:
//   A (16x16, row-major)  a0:(g, 2t..2t+1) a1:(g+8, 2t..) a2:(g, 2t+8..) a3:(g+8, 2t+8..)
//   B (16x8,  "col")      b0:(k=2t..2t+1, n=g) b1:(k=2t+8.., n=g)
//   C (16x8,  fp32)       c0,c1:(g, 2t..2t+1) c2,c3:(g+8, 2t..2t+1)
#pragma once

#include <cuda_bf16.h>
#include "polyv_std.cuh"

namespace polyv {

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy; copies src_bytes (0 or 16) and zero-fills the rest.
__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* gmem_src, int src_bytes) {
#ifdef POLYV_EMU
    polyv_emu_cp_async_16(smem_dst, gmem_src, src_bytes, __FILE__, __LINE__);
#else
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem_dst)), "l"(gmem_src),
                 "r"(src_bytes));
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#ifdef POLYV_EMU
    polyv_emu_cp_async_commit();
#else
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#ifdef POLYV_EMU
    polyv_emu_cp_async_wait(N, __FILE__, __LINE__);
#else
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// Four 8x8 b16 matrices; lane l supplies the row address of row (l % 8) of matrix (l / 8).
__device__ __forceinline__ void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const void* p) {
#ifdef POLYV_EMU
    uint32_t r[4];
    polyv_emu_ldmatrix_x4(r, p, 0, __FILE__, __LINE__);
    r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
#else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem_addr(p)));
#endif
}

// Same, transposed (used to read V stored [key][dim] as the k-major B operand).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3,
                                                  const void* p) {
#ifdef POLYV_EMU
    uint32_t r[4];
    polyv_emu_ldmatrix_x4(r, p, 1, __FILE__, __LINE__);
    r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
#else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
                 : "r"(smem_addr(p)));
#endif
}

// c += a * b, m16n8k16, bf16 inputs, fp32 accumulators.
__device__ __forceinline__ void mma_bf16_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#ifdef POLYV_EMU
    polyv_emu_mma_bf16_16816(c, a, b0, b1, __FILE__, __LINE__);
#else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// Two fp32 -> one register of two bf16 (lo = first element, round to nearest even).
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float silu(float v) { return v / (1.0f + expf(-v)); }

// 8 bf16 held in a 16-byte vector, unpacked to fp32.
__device__ __forceinline__ void bf16x8_to_float(const uint4& v, float (&f)[8]) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        float2 p = __bfloat1622float2(h[i]);
        f[2 * i] = p.x;
        f[2 * i + 1] = p.y;
    }
}

}  // namespace polyv

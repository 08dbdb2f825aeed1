// Device helpers shared by the polyv kernels. Self-contained (no CUDA headers), so the same sources
// compile under nvcc at build time and under NVRTC at run time. Needs sm_80+ (cvt.rn.bf16.f32).
#pragma once

namespace polyv {

// Element type codes, shared with ai.polyv.cuda.kernels.DeviceDType on the Java side.
constexpr int DT_F32 = 0;
constexpr int DT_BF16 = 1;
constexpr int DT_F16 = 2;

__device__ __forceinline__ float bf16_to_f32(unsigned short b) {
    return __uint_as_float(static_cast<unsigned int>(b) << 16);
}

__device__ __forceinline__ float f16_to_f32(unsigned short h) {
#ifdef POLYV_EMU
    return polyv_emu::f16_to_f32(h);
#else
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
#endif
}

// Round to nearest even, like torch's .to(bfloat16).
__device__ __forceinline__ unsigned short f32_to_bf16(float f) {
#ifdef POLYV_EMU
    return polyv_emu::f32_to_bf16_rn(f);
#else
    unsigned short b;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(b) : "f"(f));
    return b;
#endif
}

__device__ __forceinline__ unsigned short f32_to_f16(float f) {
#ifdef POLYV_EMU
    return polyv_emu::f32_to_f16_rn(f);
#else
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
#endif
}

// Element i of a table of dtype code `dtype`, as float.
__device__ __forceinline__ float load_as_f32(const void* p, int dtype, long long i) {
    if (dtype == DT_F32) return static_cast<const float*>(p)[i];
    unsigned short bits = static_cast<const unsigned short*>(p)[i];
    return dtype == DT_BF16 ? bf16_to_f32(bits) : f16_to_f32(bits);
}

// -inf without <cmath> (NVRTC has no INFINITY macro).
__device__ __forceinline__ float neg_inf() {
    return __int_as_float(0xff800000);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float part[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float t = lane < warps ? part[lane] : 0.0f;
        t = warp_sum(t);
        if (lane == 0) part[0] = t;
    }
    __syncthreads();
    float r = part[0];
    __syncthreads();  // part[] may be reused by a later call
    return r;
}

// Flat index of this thread in a 1-D grid-stride loop, and the stride.
__device__ __forceinline__ long long grid_index() {
    return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long grid_stride() {
    return static_cast<long long>(gridDim.x) * blockDim.x;
}

}  // namespace polyv

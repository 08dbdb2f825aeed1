// Host emulation of the CUDA device language for the polyv kernels. Force-included (g++ -include) when
// kernels/src/main/cuda/*.cu and kernels/emu/test/*.cu are compiled for the host with -DPOLYV_EMU.
// Every thread of a block runs as a fiber (kernels/emu/runtime/emu_runtime.cpp); the built-in
// variables, barriers, warp collectives, atomics and the PTX helpers below call into that runtime,
// which checks them (masks, divergent barriers, races, uninitialised shared memory, bounds).
// Plain loads and stores are checked through -fsanitize=thread instrumentation (see the runtime).
#pragma once
#ifndef POLYV_EMU
#define POLYV_EMU 1
#endif

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cuda_bf16.h>  // host flavour: __nv_bfloat16(2), __half, conversions in software
#include <vector_functions.h>
#include <vector_types.h>

// ---- declaration specifiers -------------------------------------------------------------------
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __constant__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __restrict__
#undef __align__
#ifdef POLYV_EMU_SCAN
// Preprocess-only pass of build-emu.sh: marks kernels and their launch bounds for the registry.
#define __global__ POLYV_EMU_GLOBAL_MARK
#define __launch_bounds__(...) POLYV_EMU_LB_MARK(__VA_ARGS__)
#else
#define __global__
#define __launch_bounds__(...)
#endif
#define __device__
#define __host__
// Static __shared__ variables become function-local statics; build-emu.sh moves their sections
// (-fdata-sections: .bss.<symbol>) into the section polyv_emu_shared, which the runtime poisons and
// shadows per block.
#define __shared__ static
#define __constant__ static const
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))

// ---- runtime entry points (kernels/emu/runtime, not instrumented) -------------------------------
extern "C" {
uint3 polyv_emu_thread_idx(void);
uint3 polyv_emu_block_idx(void);
dim3 polyv_emu_block_dim(void);
dim3 polyv_emu_grid_dim(void);
void polyv_emu_syncthreads(const char* file, int line);
void polyv_emu_syncwarp(unsigned mask, const char* file, int line);
// mode: 0 idx, 1 up, 2 down, 3 xor
uint64_t polyv_emu_shfl(int mode, unsigned mask, uint64_t v, int arg, int width, const char* file, int line);
// mode: 0 ballot, 1 any, 2 all, 3 match_any
unsigned polyv_emu_vote(int mode, unsigned mask, uint64_t v, const char* file, int line);
unsigned polyv_emu_activemask(void);
uint64_t polyv_emu_atomic(int op, void* p, uint64_t v, uint64_t cmp, const char* file, int line);
void polyv_emu_trap(const char* file, int line);
void polyv_emu_threadfence(void);
uint32_t polyv_emu_cvta_shared(const void* p, const char* file, int line);
void polyv_emu_cp_async_16(void* smem_dst, const void* gmem_src, int src_bytes, const char* file, int line);
void polyv_emu_cp_async_commit(void);
void polyv_emu_cp_async_wait(int n, const char* file, int line);
void polyv_emu_ldmatrix_x4(uint32_t* r, const void* p, int trans, const char* file, int line);
void polyv_emu_mma_bf16_16816(float* c, const uint32_t* a, uint32_t b0, uint32_t b1, const char* file, int line);
}

#define threadIdx (polyv_emu_thread_idx())
#define blockIdx (polyv_emu_block_idx())
#define blockDim (polyv_emu_block_dim())
#define gridDim (polyv_emu_grid_dim())
static constexpr int warpSize = 32;

#define __syncthreads() polyv_emu_syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) ::polyv_emu::syncwarp_at(__FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__)
#define __shfl_sync(...) ::polyv_emu::shfl_at(0, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::polyv_emu::shfl_at(1, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::polyv_emu::shfl_at(2, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::polyv_emu::shfl_at(3, __FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(m, p) polyv_emu_vote(0, (m), (p) ? 1u : 0u, __FILE__, __LINE__)
#define __any_sync(m, p) (polyv_emu_vote(1, (m), (p) ? 1u : 0u, __FILE__, __LINE__) != 0)
#define __all_sync(m, p) (polyv_emu_vote(2, (m), (p) ? 1u : 0u, __FILE__, __LINE__) != 0)
#define __match_any_sync(m, v) polyv_emu_vote(3, (m), ::polyv_emu::bits64(v), __FILE__, __LINE__)
#define __activemask() polyv_emu_activemask()
#define __trap() polyv_emu_trap(__FILE__, __LINE__)
#define __threadfence() polyv_emu_threadfence()
#define __threadfence_block() polyv_emu_threadfence()

namespace polyv_emu {

template <class T>
inline uint64_t bits64(T v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 2 || sizeof(T) == 1, "collective on an odd type");
    uint64_t u = 0;
    __builtin_memcpy(&u, &v, sizeof(T));
    return u;
}
template <class T>
inline T from_bits64(uint64_t u) {
    T v;
    __builtin_memcpy(&v, &u, sizeof(T));
    return v;
}

inline void syncwarp_at(const char* f, int l, unsigned mask = 0xffffffffu) { polyv_emu_syncwarp(mask, f, l); }

template <class T>
inline T shfl_at(int mode, const char* f, int l, unsigned mask, T v, int arg, int width = 32) {
    return from_bits64<T>(polyv_emu_shfl(mode, mask, bits64(v), arg, width, f, l));
}

// cvt.rn.bf16.f32: round to nearest even, NaN stays NaN (quiet).
inline unsigned short f32_to_bf16_rn(float f) {
    uint32_t u = __builtin_bit_cast(uint32_t, f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<unsigned short>((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<unsigned short>(u >> 16);
}

// cvt.f32.f16
inline float f16_to_f32(unsigned short h) {
    const uint32_t s = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t u;
    if (e == 0x1f) u = s | 0x7f800000u | (m << 13);
    else if (e != 0) u = s | ((e + 112u) << 23) | (m << 13);
    else if (m == 0) u = s;
    else {  // subnormal half: exact in float
        const float v = static_cast<float>(m) * 5.9604644775390625e-08f;  // m * 2^-24
        return s ? -v : v;
    }
    return __builtin_bit_cast(float, u);
}

// cvt.rn.f16.f32: round to nearest even, overflow to inf, subnormals rounded.
inline unsigned short f32_to_f16_rn(float f) {
    const uint32_t u = __builtin_bit_cast(uint32_t, f);
    const uint32_t s = (u >> 16) & 0x8000u;
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<unsigned short>(s | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return static_cast<unsigned short>(s | 0x7c00u);  // rounds to >= 65520: inf
    if (a < 0x38800000u) {  // below the smallest normal half 2^-14: subnormal or zero
        if (a < 0x33000000u) return static_cast<unsigned short>(s);  // < 2^-25: rounds to 0
        const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
        const int shift = 126 - static_cast<int>(e);  // value = m * 2^(e-150); half sub unit 2^-24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;
        return static_cast<unsigned short>(s | q);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u);
    r = ((r >> 13) - (112u << 10));
    return static_cast<unsigned short>(s | r);
}

}  // namespace polyv_emu

// ---- math and bit intrinsics ----------------------------------------------------------------------
inline float __uint_as_float(unsigned int u) { return __builtin_bit_cast(float, u); }
inline float __int_as_float(int u) { return __builtin_bit_cast(float, u); }
inline unsigned int __float_as_uint(float f) { return __builtin_bit_cast(unsigned int, f); }
inline int __float_as_int(float f) { return __builtin_bit_cast(int, f); }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned int __brev(unsigned int x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

template <class T>
inline T __ldg(const T* p) { return *p; }
template <class T>
inline T __ldcg(const T* p) { return *p; }
template <class T>
inline T __ldca(const T* p) { return *p; }
template <class T>
inline T __ldcs(const T* p) { return *p; }
template <class T>
inline void __stcg(T* p, T v) { *p = v; }

inline size_t __cvta_generic_to_shared(const void* p) { return polyv_emu_cvta_shared(p, __FILE__, __LINE__); }

// ---- atomics (checked as atomic accesses, never races with each other) ------------------------------
namespace polyv_emu {
enum AtomicOp {
    A_ADD_I32, A_ADD_U32, A_ADD_U64, A_ADD_F32, A_MAX_I32, A_MAX_U32, A_MIN_I32, A_MIN_U32, A_EXCH_32, A_EXCH_64,
    A_CAS_32, A_CAS_64, A_AND_32, A_OR_32, A_XOR_32, A_SUB_I32, A_SUB_U32, A_ADD_F64
};
}
#define POLYV_EMU_ATOMIC(OP, P, V, C) polyv_emu_atomic(::polyv_emu::OP, (void*)(P), (V), (C), __FILE__, __LINE__)
inline int atomicAdd(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_ADD_I32, p, (uint32_t)v, 0); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_ADD_U32, p, v, 0); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return POLYV_EMU_ATOMIC(A_ADD_U64, p, v, 0);
}
inline float atomicAdd(float* p, float v) {
    return __uint_as_float((unsigned)POLYV_EMU_ATOMIC(A_ADD_F32, p, __float_as_uint(v), 0));
}
inline double atomicAdd(double* p, double v) {
    return __builtin_bit_cast(double, POLYV_EMU_ATOMIC(A_ADD_F64, p, __builtin_bit_cast(uint64_t, v), 0));
}
inline int atomicSub(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_SUB_I32, p, (uint32_t)v, 0); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_SUB_U32, p, v, 0); }
inline int atomicMax(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_MAX_I32, p, (uint32_t)v, 0); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_MAX_U32, p, v, 0); }
inline int atomicMin(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_MIN_I32, p, (uint32_t)v, 0); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_MIN_U32, p, v, 0); }
inline int atomicExch(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_EXCH_32, p, (uint32_t)v, 0); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_EXCH_32, p, v, 0); }
inline float atomicExch(float* p, float v) {
    return __uint_as_float((unsigned)POLYV_EMU_ATOMIC(A_EXCH_32, p, __float_as_uint(v), 0));
}
inline unsigned long long atomicExch(unsigned long long* p, unsigned long long v) {
    return POLYV_EMU_ATOMIC(A_EXCH_64, p, v, 0);
}
inline int atomicCAS(int* p, int c, int v) { return (int)POLYV_EMU_ATOMIC(A_CAS_32, p, (uint32_t)v, (uint32_t)c); }
inline unsigned atomicCAS(unsigned* p, unsigned c, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_CAS_32, p, v, c); }
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v) {
    return POLYV_EMU_ATOMIC(A_CAS_64, p, v, c);
}
inline int atomicAnd(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_AND_32, p, (uint32_t)v, 0); }
inline unsigned atomicAnd(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_AND_32, p, v, 0); }
inline int atomicOr(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_OR_32, p, (uint32_t)v, 0); }
inline unsigned atomicOr(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_OR_32, p, v, 0); }
inline int atomicXor(int* p, int v) { return (int)POLYV_EMU_ATOMIC(A_XOR_32, p, (uint32_t)v, 0); }
inline unsigned atomicXor(unsigned* p, unsigned v) { return (unsigned)POLYV_EMU_ATOMIC(A_XOR_32, p, v, 0); }

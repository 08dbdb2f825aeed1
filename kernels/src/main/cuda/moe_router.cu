// PolyV MoE stage 1: the fused router (SPEC.md section 2, "Sparse MoE FFN" and "Load-balancing loss").
//
// Per token row t:
//   logits[t, e] = sum_h float(x[t, h]) * float(gate[e, h])          fp32 accumulate
//   p[t, :]      = softmax(logits[t, :])                              fp32
//   ids[t, 0..k) = top-k of p[t, :], descending; ties -> lower expert index
//   w[t, j]      = p[t, ids[t, j]]  (divided by sum_j of them when renormalize != 0)
// and over all tokens (the load-balancing statistics of eq. 9-10, as sums; divide by tokens on the host):
//   stats[0, e] = sum_t p[t, e]                      (tokens * G_e)
//   stats[1, e] = #{t : ids[t, 0] == e}              (tokens * F_e; the argmax with ties to the lower index)
//
// Kernels (all extern "C" for cuModuleGetFunction):
//   moe_router_v2_xbf16_m8, moe_router_v2_xbf16_m64, moe_router_v2_xf32_m8, moe_router_v2_xf32_m64
//       fast: one warp per token row (grid-stride), 16-byte loads of x and gate, shuffle reductions,
//       block reduction of the statistics into per-block partials, the last block to finish sums the
//       partials in block order -> the statistics are bitwise reproducible for a given grid size
//       (no float atomics). "_m8" holds up to 8 experts in registers, "_m64" up to 64.
//   moe_router_v1_xbf16, moe_router_v1_xf32, moe_router_stats_v1
//       reference: one thread per token, then one thread per expert summing over tokens in order.
//
// Launch (fast): block = 256 threads (8 warps), grid = any G >= 1 (the launcher takes it from its
// tuning table); dynamic shared memory 0. partials must hold G * 2 * M floats and done_counter must
// be 0 before the first launch (the kernel resets it to 0 when it finishes, so it can be reused on the
// same stream). Requirements (checked by the Java launcher): hidden % 8 == 0, x and gate 16-byte
// aligned, 1 <= M <= MAXM, 1 <= k <= M.
#include <cuda_bf16.h>
#include "polyv_std.cuh"

#include "polyv_mma.cuh"

namespace {

constexpr int kRouterWarps = 8;

__device__ __forceinline__ void load8(const __nv_bfloat16* p, float (&f)[8]) {
    polyv::bf16x8_to_float(*reinterpret_cast<const uint4*>(p), f);
}

__device__ __forceinline__ void load8(const float* p, float (&f)[8]) {
    float4 a = reinterpret_cast<const float4*>(p)[0];
    float4 b = reinterpret_cast<const float4*>(p)[1];
    f[0] = a.x; f[1] = a.y; f[2] = a.z; f[3] = a.w;
    f[4] = b.x; f[5] = b.y; f[6] = b.z; f[7] = b.w;
}

__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(float v) { return v; }

// One top-k selection over p[0..M) in registers; taken is the bitmask of experts already chosen.
template <int MAXM>
__device__ __forceinline__ int select_best(const float (&p)[MAXM], int M, uint64_t taken, float& best_p) {
    int best = -1;
    best_p = 0.0f;
#pragma unroll
    for (int e = 0; e < MAXM; ++e) {
        if (e < M && !((taken >> e) & 1ull) && (best < 0 || p[e] > best_p)) {  // strict >: ties keep lower e
            best = e;
            best_p = p[e];
        }
    }
    return best;
}

template <typename TX, int MAXM>
__device__ void router_v2(const TX* __restrict__ x, const __nv_bfloat16* __restrict__ gate, int tokens, int hidden,
                          int M, int k, int renormalize, float* __restrict__ logits, int* __restrict__ topk_ids,
                          float* __restrict__ topk_w, float* __restrict__ partials,
                          unsigned int* __restrict__ done_counter, float* __restrict__ stats) {
    __shared__ float s_part[kRouterWarps][2][MAXM];
    __shared__ bool s_last;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float my_p0 = 0.f, my_p1 = 0.f, my_c0 = 0.f, my_c1 = 0.f;  // stats of experts lane and lane + 32

    for (int t = blockIdx.x * kRouterWarps + warp; t < tokens; t += gridDim.x * kRouterWarps) {
        float acc[MAXM];
#pragma unroll
        for (int e = 0; e < MAXM; ++e) acc[e] = 0.f;
        const TX* xr = x + (size_t)t * hidden;
        for (int c = lane * 8; c < hidden; c += 32 * 8) {
            float xv[8];
            load8(xr + c, xv);
#pragma unroll
            for (int e = 0; e < MAXM; ++e) {
                if (e < M) {
                    float gv[8];
                    load8(gate + (size_t)e * hidden + c, gv);
#pragma unroll
                    for (int i = 0; i < 8; ++i) acc[e] = fmaf(xv[i], gv[i], acc[e]);
                }
            }
        }
        float mx = -INFINITY;
#pragma unroll
        for (int e = 0; e < MAXM; ++e) {
            if (e < M) {
                acc[e] = polyv::warp_sum(acc[e]);  // every lane now holds every logit
                mx = fmaxf(mx, acc[e]);
            }
        }
        if (logits != nullptr) {
#pragma unroll
            for (int e = 0; e < MAXM; ++e)
                if (e < M && (e & 31) == lane) logits[(size_t)t * M + e] = acc[e];
        }
        float p[MAXM], sum = 0.f;
#pragma unroll
        for (int e = 0; e < MAXM; ++e) {
            p[e] = e < M ? expf(acc[e] - mx) : 0.f;
            sum += p[e];
        }
#pragma unroll
        for (int e = 0; e < MAXM; ++e) p[e] = p[e] / sum;

        float wsum = 1.f;
        if (renormalize) {
            wsum = 0.f;
            uint64_t taken = 0;
            for (int j = 0; j < k; ++j) {
                float bp;
                int b = select_best<MAXM>(p, M, taken, bp);
                taken |= 1ull << b;
                wsum += bp;
            }
        }
        uint64_t taken = 0;
        int top1 = 0;
        for (int j = 0; j < k; ++j) {
            float bp;
            int b = select_best<MAXM>(p, M, taken, bp);
            taken |= 1ull << b;
            if (j == 0) top1 = b;
            if (lane == (j & 31)) {
                topk_ids[(size_t)t * k + j] = b;
                topk_w[(size_t)t * k + j] = renormalize ? bp / wsum : bp;
            }
        }
#pragma unroll
        for (int e = 0; e < MAXM; ++e) {
            if (e == lane) { my_p0 += p[e]; my_c0 += (top1 == e) ? 1.f : 0.f; }
            if (e == lane + 32) { my_p1 += p[e]; my_c1 += (top1 == e) ? 1.f : 0.f; }
        }
    }

    // Block reduction in warp order, then the last block sums the partials in block order.
    if (lane < MAXM) { s_part[warp][0][lane] = my_p0; s_part[warp][1][lane] = my_c0; }
    if (lane + 32 < MAXM) { s_part[warp][0][lane + 32] = my_p1; s_part[warp][1][lane + 32] = my_c1; }
    __syncthreads();
    for (int i = threadIdx.x; i < 2 * M; i += blockDim.x) {
        int which = i / M, e = i % M;
        float s = 0.f;
        for (int w = 0; w < kRouterWarps; ++w) s += s_part[w][which][e];
        partials[(size_t)blockIdx.x * 2 * M + i] = s;
    }
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) s_last = atomicAdd(done_counter, 1u) == gridDim.x - 1;
    __syncthreads();
    if (s_last) {
        for (int i = threadIdx.x; i < 2 * M; i += blockDim.x) {
            float s = 0.f;
            for (unsigned b = 0; b < gridDim.x; ++b) s += __ldcg(partials + (size_t)b * 2 * M + i);
            stats[i] = s;
        }
        if (threadIdx.x == 0) *done_counter = 0u;
    }
}

// Reference: one thread per token, same maths in the plainest order. Requires M <= 64.
template <typename TX>
__device__ void router_v1(const TX* __restrict__ x, const __nv_bfloat16* __restrict__ gate, int tokens, int hidden,
                          int M, int k, int renormalize, float* __restrict__ logits, int* __restrict__ topk_ids,
                          float* __restrict__ topk_w) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= tokens) return;
    float p[64];
    float mx = -INFINITY;
    for (int e = 0; e < M; ++e) {
        float s = 0.f;
        for (int h = 0; h < hidden; ++h) s += to_float(x[(size_t)t * hidden + h]) * __bfloat162float(gate[(size_t)e * hidden + h]);
        logits[(size_t)t * M + e] = s;
        p[e] = s;
        mx = fmaxf(mx, s);
    }
    float sum = 0.f;
    for (int e = 0; e < M; ++e) { p[e] = expf(p[e] - mx); sum += p[e]; }
    for (int e = 0; e < M; ++e) p[e] /= sum;
    uint64_t taken = 0;
    float wsum = 0.f;
    for (int j = 0; j < k; ++j) {
        int best = -1;
        for (int e = 0; e < M; ++e)
            if (!((taken >> e) & 1ull) && (best < 0 || p[e] > p[best])) best = e;
        taken |= 1ull << best;
        topk_ids[(size_t)t * k + j] = best;
        topk_w[(size_t)t * k + j] = p[best];
        wsum += p[best];
    }
    if (renormalize)
        for (int j = 0; j < k; ++j) topk_w[(size_t)t * k + j] /= wsum;
}

}  // namespace

#define POLYV_ROUTER_V2(NAME, TX, MAXM)                                                                          \
    extern "C" __global__ void __launch_bounds__(kRouterWarps * 32)                                           \
        NAME(const TX* __restrict__ x,                 /* [tokens, hidden] */                                 \
             const __nv_bfloat16* __restrict__ gate,   /* [M, hidden] */                                      \
             int tokens, int hidden, int M, int k, int renormalize,                                           \
             float* __restrict__ logits,               /* [tokens, M], or null to skip */                     \
             int* __restrict__ topk_ids,               /* [tokens, k] */                                      \
             float* __restrict__ topk_w,               /* [tokens, k] */                                      \
             float* __restrict__ partials,             /* [gridDim.x, 2, M] scratch */                        \
             unsigned int* __restrict__ done_counter,  /* [1], 0 on entry, 0 on exit */                       \
             float* __restrict__ stats) {              /* [2, M]: sum of p, count of argmax */                \
        router_v2<TX, MAXM>(x, gate, tokens, hidden, M, k, renormalize, logits, topk_ids, topk_w, partials,   \
                            done_counter, stats);                                                             \
    }

POLYV_ROUTER_V2(moe_router_v2_xbf16_m8, __nv_bfloat16, 8)
POLYV_ROUTER_V2(moe_router_v2_xbf16_m64, __nv_bfloat16, 64)
POLYV_ROUTER_V2(moe_router_v2_xf32_m8, float, 8)
POLYV_ROUTER_V2(moe_router_v2_xf32_m64, float, 64)

// Reference router. block = 128 threads, grid = ceil(tokens / 128). logits is required.
extern "C" __global__ void moe_router_v1_xbf16(const __nv_bfloat16* __restrict__ x,     // [tokens, hidden]
                                               const __nv_bfloat16* __restrict__ gate,  // [M, hidden]
                                               int tokens, int hidden, int M, int k, int renormalize,
                                               float* __restrict__ logits,  // [tokens, M]
                                               int* __restrict__ topk_ids,  // [tokens, k]
                                               float* __restrict__ topk_w) {  // [tokens, k]
    router_v1<__nv_bfloat16>(x, gate, tokens, hidden, M, k, renormalize, logits, topk_ids, topk_w);
}

extern "C" __global__ void moe_router_v1_xf32(const float* __restrict__ x,              // [tokens, hidden]
                                              const __nv_bfloat16* __restrict__ gate,   // [M, hidden]
                                              int tokens, int hidden, int M, int k, int renormalize,
                                              float* __restrict__ logits,  // [tokens, M]
                                              int* __restrict__ topk_ids,  // [tokens, k]
                                              float* __restrict__ topk_w) {  // [tokens, k]
    router_v1<float>(x, gate, tokens, hidden, M, k, renormalize, logits, topk_ids, topk_w);
}

// Reference statistics from the logits: thread e sums p[t, e] over t = 0..tokens-1 in order and counts
// the tokens whose argmax (ties -> lower index) is e. block = 64 threads, grid = 1.
extern "C" __global__ void moe_router_stats_v1(const float* __restrict__ logits,  // [tokens, M]
                                               int tokens, int M,
                                               float* __restrict__ stats) {  // [2, M]
    int e = threadIdx.x;
    if (e >= M) return;
    float sp = 0.f, cnt = 0.f;
    for (int t = 0; t < tokens; ++t) {
        const float* l = logits + (size_t)t * M;
        float p[64], mx = -INFINITY, sum = 0.f;
        for (int i = 0; i < M; ++i) mx = fmaxf(mx, l[i]);
        for (int i = 0; i < M; ++i) { p[i] = expf(l[i] - mx); sum += p[i]; }
        int arg = 0;
        for (int i = 0; i < M; ++i) {
            p[i] /= sum;
            if (p[i] > p[arg]) arg = i;  // argmax of p, ties -> lower index (as top-1 of the router)
        }
        sp += p[e];
        if (arg == e) cnt += 1.f;
    }
    stats[e] = sp;
    stats[M + e] = cnt;
}

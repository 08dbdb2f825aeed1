// PolyV MoE stages 2 and 4: align/permute the (token, slot) assignments by expert, and the inverse
// weighted combine. Same contract as runtime/.../model/TokenPermutation.java.
//
// Assignment a = t * k + j is token t's j-th choice, expert ids[a]. n = tokens * k assignments.
// ORDER (defined once, deterministic, independent of thread scheduling):
//   entries are sorted by expert ascending; inside an expert by assignment index a ascending, i.e. by
//   token index and then slot. Expert e owns entries [offsets[e], offsets[e+1]); an expert with no
//   token has an empty range. pos[a] is the entry of assignment a (the inverse map):
//   perm_token[pos[a]] == a / k, perm_weight[pos[a]] == w[a].
// The position of a is offsets[e] + #{a' < a : ids[a'] == e}: a counting sort whose rank is computed
// by a scan (warp __match_any_sync + popc, then a scan over warps in warp order), never by the order in
// which atomics happen to land, so every output is bitwise reproducible.
//
// Combine: out[t, :] = sum_{j = 0..k-1} w[t, j] * y[pos[t * k + j], :], summed in the order j = 0..k-1
// in fp32, no atomics (bitwise reproducible). Pass w = null when the expert FFN already multiplied
// its rows by the router weight (expert_ffn.cu, down projection with row_scale = perm_weight).
//
// Kernels:
//   moe_align_v2        fast: ONE block of 1024 threads, n processed in chunks of 1024 (O(n / 1024)
//                       sequential steps; fine for n up to ~10^5, the prefill sizes of PolyV).
//   moe_align_v1        reference: one thread, the Java algorithm literally.
//   moe_permute_rows_v2 gather x rows into entry order: x_perm[i, :] = x[perm_token[i], :] (any dtype,
//                       row_bytes % 16 == 0). Optional: expert_ffn.cu can read x through perm_token
//                       directly and skip this copy.
//   moe_combine_v2_f32, moe_combine_v2_f32_to_bf16   fast combine (16-byte vectors, hidden % 4 == 0).
//   moe_combine_v1_f32  reference combine, one thread per output element.
#include <cuda_bf16.h>
#include "polyv_std.cuh"

namespace {
constexpr int kAlignThreads = 1024;
constexpr int kAlignWarps = kAlignThreads / 32;
constexpr int kMaxExperts = 64;
}  // namespace

// block = 1024 threads, grid = 1, dynamic shared memory 0.
// bad_ids receives the number of ids outside [0, M) (0 expected; such assignments get pos = -1 and no
// entry, and offsets[M] then counts only the valid ones).
extern "C" __global__ void __launch_bounds__(kAlignThreads)
    moe_align_v2(const int* __restrict__ ids,      // [n] = [tokens, k] expert of each assignment
                 const float* __restrict__ w,      // [n] = [tokens, k] router weight of each assignment
                 int n, int k, int M,              // M <= 64
                 int* __restrict__ offsets,        // [M + 1] out
                 int* __restrict__ perm_token,     // [n] out: token row of each entry
                 float* __restrict__ perm_weight,  // [n] out: router weight of each entry
                 int* __restrict__ pos,            // [n] out: entry of each assignment (inverse map)
                 int* __restrict__ bad_ids) {      // [1] out
    __shared__ int s_count[kMaxExperts];
    __shared__ int s_carry[kMaxExperts];
    __shared__ int s_warp[kAlignWarps][kMaxExperts];
    __shared__ int s_bad;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid < kMaxExperts) s_count[tid] = 0;
    if (tid == 0) s_bad = 0;
    __syncthreads();
    for (int a = tid; a < n; a += kAlignThreads) {  // histogram: integer atomics, order-independent
        int e = ids[a];
        if (e >= 0 && e < M) atomicAdd(&s_count[e], 1);
        else atomicAdd(&s_bad, 1);
    }
    __syncthreads();
    if (tid == 0) {
        int run = 0;
        for (int e = 0; e < M; ++e) {
            offsets[e] = run;
            s_carry[e] = run;
            run += s_count[e];
        }
        offsets[M] = run;
        *bad_ids = s_bad;
    }
    const unsigned lt_mask = (1u << lane) - 1u;
    for (int base = 0; base < n; base += kAlignThreads) {
        for (int i = tid; i < kAlignWarps * kMaxExperts; i += kAlignThreads) (&s_warp[0][0])[i] = 0;
        __syncthreads();
        const int a = base + tid;
        int e = a < n ? ids[a] : -1;
        if (e >= M) e = -1;
        const unsigned same = __match_any_sync(0xffffffffu, e);  // lanes of this warp with the same expert
        const int rank = __popc(same & lt_mask);
        if (e >= 0 && rank == 0) s_warp[warp][e] = __popc(same);
        __syncthreads();
        if (tid < M) {  // exclusive scan over warps, in warp order
            int run = s_carry[tid];
            for (int wi = 0; wi < kAlignWarps; ++wi) {
                int c = s_warp[wi][tid];
                s_warp[wi][tid] = run;
                run += c;
            }
            s_carry[tid] = run;
        }
        __syncthreads();
        if (a < n) {
            if (e >= 0) {
                const int p = s_warp[warp][e] + rank;
                perm_token[p] = a / k;
                perm_weight[p] = w[a];
                pos[a] = p;
            } else {
                pos[a] = -1;
            }
        }
        __syncthreads();
    }
}

// Reference: block = 1, grid = 1. Same outputs as moe_align_v2 (ids are assumed valid).
extern "C" __global__ void moe_align_v1(const int* __restrict__ ids, const float* __restrict__ w, int n, int k, int M,
                                        int* __restrict__ offsets, int* __restrict__ perm_token,
                                        float* __restrict__ perm_weight, int* __restrict__ pos) {
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    for (int e = 0; e <= M; ++e) offsets[e] = 0;
    for (int a = 0; a < n; ++a) offsets[ids[a] + 1]++;
    for (int e = 0; e < M; ++e) offsets[e + 1] += offsets[e];
    int fill[kMaxExperts];
    for (int e = 0; e < M; ++e) fill[e] = offsets[e];
    for (int a = 0; a < n; ++a) {
        int p = fill[ids[a]]++;
        perm_token[p] = a / k;
        perm_weight[p] = w[a];
        pos[a] = p;
    }
}

// x_perm[i, :] = x[perm_token[i], :]. block = 128 threads, grid = min(n, 65535) (grid-stride over rows).
// row_bytes % 16 == 0 and both bases 16-byte aligned.
extern "C" __global__ void moe_permute_rows_v2(const uint4* __restrict__ x,         // [tokens, row_bytes / 16]
                                               const int* __restrict__ perm_token,  // [n]
                                               int n, int row_bytes,
                                               uint4* __restrict__ x_perm) {        // [n, row_bytes / 16]
    const int vecs = row_bytes / 16;
    for (int i = blockIdx.x; i < n; i += gridDim.x) {
        const uint4* src = x + (size_t)perm_token[i] * vecs;
        uint4* dst = x_perm + (size_t)i * vecs;
        for (int c = threadIdx.x; c < vecs; c += blockDim.x) dst[c] = src[c];
    }
}

namespace {
__device__ __forceinline__ void store4(float* out, float4 v) { *reinterpret_cast<float4*>(out) = v; }
__device__ __forceinline__ void store4(__nv_bfloat16* out, float4 v) {
    __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
    uint2 u;
    u.x = *reinterpret_cast<uint32_t*>(&lo);
    u.y = *reinterpret_cast<uint32_t*>(&hi);
    *reinterpret_cast<uint2*>(out) = u;
}

template <typename TO>
__device__ void combine_v2(const float* __restrict__ y, const int* __restrict__ pos, const float* __restrict__ w,
                           int tokens, int k, int hidden, TO* __restrict__ out) {
    for (int t = blockIdx.x; t < tokens; t += gridDim.x) {
        for (int c = threadIdx.x * 4; c < hidden; c += blockDim.x * 4) {
            float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
            for (int j = 0; j < k; ++j) {  // fixed order j = 0..k-1
                const int p = pos[(size_t)t * k + j];
                const float s = w != nullptr ? w[(size_t)t * k + j] : 1.f;
                const float4 v = *reinterpret_cast<const float4*>(y + (size_t)p * hidden + c);
                acc.x = fmaf(s, v.x, acc.x);
                acc.y = fmaf(s, v.y, acc.y);
                acc.z = fmaf(s, v.z, acc.z);
                acc.w = fmaf(s, v.w, acc.w);
            }
            store4(out + (size_t)t * hidden + c, acc);
        }
    }
}
}  // namespace

// block = 256 threads, grid = min(tokens, 65535). hidden % 4 == 0, 16-byte aligned y and out.
extern "C" __global__ void moe_combine_v2_f32(const float* __restrict__ y,    // [n, hidden] expert outputs, entry order
                                              const int* __restrict__ pos,    // [tokens, k]
                                              const float* __restrict__ w,    // [tokens, k], or null = weights already applied
                                              int tokens, int k, int hidden,
                                              float* __restrict__ out) {      // [tokens, hidden]
    combine_v2<float>(y, pos, w, tokens, k, hidden, out);
}

extern "C" __global__ void moe_combine_v2_f32_to_bf16(const float* __restrict__ y, const int* __restrict__ pos,
                                                      const float* __restrict__ w, int tokens, int k, int hidden,
                                                      __nv_bfloat16* __restrict__ out) {  // [tokens, hidden]
    combine_v2<__nv_bfloat16>(y, pos, w, tokens, k, hidden, out);
}

// Reference: one thread per output element; block = 256, grid = ceil(tokens * hidden / 256).
extern "C" __global__ void moe_combine_v1_f32(const float* __restrict__ y, const int* __restrict__ pos,
                                              const float* __restrict__ w, int tokens, int k, int hidden,
                                              float* __restrict__ out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)tokens * hidden) return;
    size_t t = i / hidden, c = i % hidden;
    float acc = 0.f;
    for (int j = 0; j < k; ++j) {
        float s = w != nullptr ? w[t * k + j] : 1.f;
        acc += s * y[(size_t)pos[t * k + j] * hidden + c];
    }
    out[i] = acc;
}

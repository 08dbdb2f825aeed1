// PolyV vision encoder attention (SPEC.md section 1, "Window attention"): non-causal variable-length
// attention over the sequences cu_seqlens describes, in the window-permuted token order. Sequence s is
// tokens [cu_seqlens[s], cu_seqlens[s+1]); for every head h and query i of s:
//   out[i, h*hd : (h+1)*hd] = softmax_j(scale * q_i . k_j) v_j over j in s,  scale = hd^-0.5
// q, k, v, out are [tokens, heads * hd] row-major (the qkv Linear output split in three, heads
// interleaved as in HF: head h at columns h*hd .. h*hd+hd-1). Softmax and accumulation in fp32.
// Same maths as ReferenceOps.attentionSegments.
//
// Kernels:
//   window_attention_v2_hd{64,80,128}_bf16_to_{bf16,f32}
//       flash attention (FlashAttention-2 style, written for this shape): CTA = 64 queries of one
//       sequence and one head, 4 warps x 16 query rows; K/V tiles of 64 keys go through shared memory
//       (cp.async, K of tile j+1 loads while P.V of tile j runs); S = Q K^T and O += P V on tensor cores
//       (mma.sync m16n8k16 bf16 -> fp32, ldmatrix / ldmatrix.trans), online softmax in exp2 space in
//       registers, P re-used as the A operand straight from the S accumulators.
//       block = 128, grid = (ceil(max_seqlen / 64), num_seqs, heads), static shared memory
//       2 * 64 * (hd + 8) * 2 bytes (rows padded by 8 elements: conflict-free ldmatrix). CTAs whose
//       query tile lies past the end of their sequence exit at once, so one call should hold sequences
//       of similar length (Qwen2.5-VL: either all windows (<= 64) or all full frames per block).
//   window_attention_v1_{bf16,f32}_to_f32
//       reference: one thread per (query, head), online softmax over the keys in order, hd <= 128.
//       block = 128, grid = (ceil(tokens / 128), heads).
// Requirements (checked by the Java launcher): cu_seqlens[0] == 0, non-decreasing, last == tokens;
// hd in {64, 80, 128} for v2; 16-byte aligned q, k, v, out; max_seqlen >= every sequence length.
#include <cuda_bf16.h>
#include "polyv_std.cuh"

#include "polyv_mma.cuh"

namespace {

using bf16 = __nv_bfloat16;
using namespace polyv;

constexpr int kTile = 64;          // queries per CTA and keys per K/V tile
constexpr int kAttnThreads = 128;  // 4 warps x 16 query rows
constexpr float kLog2e = 1.4426950408889634f;

// Copies rows [row0, row0 + 64) of one head (columns col0 .. col0 + HD) into a padded shared tile;
// rows at or past row_end are zero-filled.
template <int HD>
__device__ __forceinline__ void load_tile(bf16* s, const bf16* __restrict__ g, int row0, int row_end, int ld, int col0) {
    constexpr int CHUNKS = HD / 8, LDS = HD + 8;
    for (int id = threadIdx.x; id < kTile * CHUNKS; id += kAttnThreads) {
        const int r = id / CHUNKS, c = id % CHUNKS;
        const bool ok = row0 + r < row_end;
        const bf16* src = ok ? g + (size_t)(row0 + r) * ld + col0 + c * 8 : g;
        cp_async_16(s + r * LDS + c * 8, src, ok ? 16 : 0);
    }
}

__device__ __forceinline__ void store2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }
__device__ __forceinline__ void store2(bf16* p, float a, float b) { *reinterpret_cast<uint32_t*>(p) = pack_bf16x2(a, b); }

template <int HD, typename TO>
__device__ void flash_varlen(const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                             const int* __restrict__ cu_seqlens, int heads, float scale, TO* __restrict__ out) {
    constexpr int LDS = HD + 8, KSTEPS = HD / 16, DTILES = HD / 8;
    __shared__ __align__(128) bf16 sK[kTile * LDS];
    __shared__ __align__(128) bf16 sV[kTile * LDS];  // holds Q first

    const int seq = blockIdx.y, head = blockIdx.z;
    const int start = cu_seqlens[seq], len = cu_seqlens[seq + 1] - start;
    const int q0 = blockIdx.x * kTile;
    if (q0 >= len) return;
    const int ld = heads * HD, col0 = head * HD;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t4 = lane & 3;
    const bf16* qs = q + (size_t)start * ld;
    const bf16* ks = k + (size_t)start * ld;
    const bf16* vs = v + (size_t)start * ld;
    const float sl2 = scale * kLog2e;

    // Prologue: Q -> sV and K_0 -> sK, then Q fragments into registers, then V_0 -> sV.
    load_tile<HD>(sV, qs, q0, len, ld, col0);
    load_tile<HD>(sK, ks, 0, len, ld, col0);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    uint32_t qf[KSTEPS][4];
#pragma unroll
    for (int ks_ = 0; ks_ < KSTEPS; ++ks_)
        ldmatrix_x4(qf[ks_][0], qf[ks_][1], qf[ks_][2], qf[ks_][3],
                    sV + (warp * 16 + (lane & 15)) * LDS + ks_ * 16 + (lane >> 4) * 8);
    __syncthreads();
    load_tile<HD>(sV, vs, 0, len, ld, col0);
    cp_async_commit();

    float o[DTILES][4];
#pragma unroll
    for (int d = 0; d < DTILES; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m_lo = -INFINITY, m_hi = -INFINITY, l_lo = 0.f, l_hi = 0.f;  // rows g and g + 8

    const int ntiles = (len + kTile - 1) / kTile;
    for (int j = 0; j < ntiles; ++j) {
        const int kv0 = j * kTile;
        cp_async_wait<1>();  // K_j has landed (V_j may still be in flight)
        __syncthreads();

        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
        for (int ks_ = 0; ks_ < KSTEPS; ++ks_) {
#pragma unroll
            for (int p = 0; p < 4; ++p) {
                uint32_t b0, b1, b2, b3;
                ldmatrix_x4(b0, b1, b2, b3,
                            sK + (p * 16 + (lane & 7) + ((lane >> 4) << 3)) * LDS + ks_ * 16 + ((lane >> 3) & 1) * 8);
                mma_bf16_16816(s[2 * p], qf[ks_], b0, b1);
                mma_bf16_16816(s[2 * p + 1], qf[ks_], b2, b3);
            }
        }
        __syncthreads();  // every warp is done with sK
        if (j + 1 < ntiles) load_tile<HD>(sK, ks, kv0 + kTile, len, ld, col0);
        cp_async_commit();

        // Online softmax (log2 domain); keys past the end of the sequence are masked.
        float mx_lo = m_lo, mx_hi = m_hi;
#pragma unroll
        for (int n = 0; n < 8; ++n) {
#pragma unroll
            for (int c = 0; c < 2; ++c) {
                const bool valid = kv0 + n * 8 + 2 * t4 + c < len;
                s[n][c] = valid ? s[n][c] * sl2 : -INFINITY;
                s[n][c + 2] = valid ? s[n][c + 2] * sl2 : -INFINITY;
                mx_lo = fmaxf(mx_lo, s[n][c]);
                mx_hi = fmaxf(mx_hi, s[n][c + 2]);
            }
        }
        mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, 1));
        mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, 2));
        mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, 1));
        mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, 2));
        const float a_lo = exp2f(m_lo - mx_lo), a_hi = exp2f(m_hi - mx_hi);  // 0 on the first tile
        m_lo = mx_lo;
        m_hi = mx_hi;
        float rs_lo = 0.f, rs_hi = 0.f;
#pragma unroll
        for (int n = 0; n < 8; ++n) {
            s[n][0] = exp2f(s[n][0] - mx_lo);
            s[n][1] = exp2f(s[n][1] - mx_lo);
            s[n][2] = exp2f(s[n][2] - mx_hi);
            s[n][3] = exp2f(s[n][3] - mx_hi);
            rs_lo += s[n][0] + s[n][1];
            rs_hi += s[n][2] + s[n][3];
        }
        l_lo = l_lo * a_lo + rs_lo;  // per-thread partial row sums; the quad is summed at the end
        l_hi = l_hi * a_hi + rs_hi;
#pragma unroll
        for (int d = 0; d < DTILES; ++d) {
            o[d][0] *= a_lo;
            o[d][1] *= a_lo;
            o[d][2] *= a_hi;
            o[d][3] *= a_hi;
        }

        cp_async_wait<1>();  // V_j has landed (K_{j+1} may still be in flight)
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTile / 16; ++kk) {
            uint32_t pa[4];
            pa[0] = pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
            pa[1] = pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
            pa[2] = pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            pa[3] = pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
            for (int dp = 0; dp < HD / 16; ++dp) {
                uint32_t b0, b1, b2, b3;
                ldmatrix_x4_trans(b0, b1, b2, b3,
                                  sV + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LDS + dp * 16 + (lane >> 4) * 8);
                mma_bf16_16816(o[2 * dp], pa, b0, b1);
                mma_bf16_16816(o[2 * dp + 1], pa, b2, b3);
            }
        }
        __syncthreads();  // every warp is done with sV
        if (j + 1 < ntiles) load_tile<HD>(sV, vs, kv0 + kTile, len, ld, col0);
        cp_async_commit();
    }
    cp_async_wait<0>();

    l_lo += __shfl_xor_sync(0xffffffffu, l_lo, 1);
    l_lo += __shfl_xor_sync(0xffffffffu, l_lo, 2);
    l_hi += __shfl_xor_sync(0xffffffffu, l_hi, 1);
    l_hi += __shfl_xor_sync(0xffffffffu, l_hi, 2);
    const float inv_lo = 1.f / l_lo, inv_hi = 1.f / l_hi;
    const int r_lo = q0 + warp * 16 + g, r_hi = r_lo + 8;
#pragma unroll
    for (int d = 0; d < DTILES; ++d) {
        const int col = col0 + d * 8 + 2 * t4;
        if (r_lo < len) store2(out + (size_t)(start + r_lo) * ld + col, o[d][0] * inv_lo, o[d][1] * inv_lo);
        if (r_hi < len) store2(out + (size_t)(start + r_hi) * ld + col, o[d][2] * inv_hi, o[d][3] * inv_hi);
    }
}

__device__ __forceinline__ float to_float(bf16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(float x) { return x; }

template <typename TI>
__device__ void attention_v1(const TI* __restrict__ q, const TI* __restrict__ k, const TI* __restrict__ v,
                             const int* __restrict__ cu_seqlens, int num_seqs, int tokens, int heads, int hd,
                             float scale, float* __restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x, head = blockIdx.y;
    if (i >= tokens) return;
    int lo = 0, hi = num_seqs;  // find s with cu_seqlens[s] <= i < cu_seqlens[s+1]
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (cu_seqlens[mid] <= i) lo = mid;
        else hi = mid;
    }
    while (lo + 1 < num_seqs && cu_seqlens[lo + 1] <= i) ++lo;  // skip empty sequences
    const int ld = heads * hd;
    const TI* qi = q + (size_t)i * ld + head * hd;
    float acc[128];
    for (int d = 0; d < hd; ++d) acc[d] = 0.f;
    float m = -INFINITY, l = 0.f;
    for (int j = cu_seqlens[lo]; j < cu_seqlens[lo + 1]; ++j) {
        const TI* kj = k + (size_t)j * ld + head * hd;
        float s = 0.f;
        for (int d = 0; d < hd; ++d) s += to_float(qi[d]) * to_float(kj[d]);
        s *= scale;
        const float mn = fmaxf(m, s), a = expf(m - mn), p = expf(s - mn);
        l = l * a + p;
        const TI* vj = v + (size_t)j * ld + head * hd;
        for (int d = 0; d < hd; ++d) acc[d] = acc[d] * a + p * to_float(vj[d]);
        m = mn;
    }
    for (int d = 0; d < hd; ++d) out[(size_t)i * ld + head * hd + d] = acc[d] / l;
}

}  // namespace

#define POLYV_ATTN_V2(NAME, HD, TO)                                                                            \
    extern "C" __global__ void __launch_bounds__(kAttnThreads)                                                \
        NAME(const bf16* __restrict__ q,           /* [tokens, heads * HD] */                                 \
             const bf16* __restrict__ k,           /* [tokens, heads * HD] */                                 \
             const bf16* __restrict__ v,           /* [tokens, heads * HD] */                                 \
             const int* __restrict__ cu_seqlens,   /* [num_seqs + 1] */                                       \
             int heads, float scale,                                                                          \
             TO* __restrict__ out) {               /* [tokens, heads * HD] */                                 \
        flash_varlen<HD, TO>(q, k, v, cu_seqlens, heads, scale, out);                                         \
    }

POLYV_ATTN_V2(window_attention_v2_hd64_bf16_to_bf16, 64, bf16)
POLYV_ATTN_V2(window_attention_v2_hd80_bf16_to_bf16, 80, bf16)
POLYV_ATTN_V2(window_attention_v2_hd128_bf16_to_bf16, 128, bf16)
POLYV_ATTN_V2(window_attention_v2_hd64_bf16_to_f32, 64, float)
POLYV_ATTN_V2(window_attention_v2_hd80_bf16_to_f32, 80, float)
POLYV_ATTN_V2(window_attention_v2_hd128_bf16_to_f32, 128, float)

// Reference, bf16 inputs. block = 128, grid = (ceil(tokens / 128), heads).
extern "C" __global__ void window_attention_v1_bf16_to_f32(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                                           const bf16* __restrict__ v, const int* __restrict__ cu_seqlens,
                                                           int num_seqs, int tokens, int heads, int hd, float scale,
                                                           float* __restrict__ out) {
    attention_v1<bf16>(q, k, v, cu_seqlens, num_seqs, tokens, heads, hd, scale, out);
}

// Reference, fp32 inputs. block = 128, grid = (ceil(tokens / 128), heads).
extern "C" __global__ void window_attention_v1_f32_to_f32(const float* __restrict__ q, const float* __restrict__ k,
                                                          const float* __restrict__ v, const int* __restrict__ cu_seqlens,
                                                          int num_seqs, int tokens, int heads, int hd, float scale,
                                                          float* __restrict__ out) {
    attention_v1<float>(q, k, v, cu_seqlens, num_seqs, tokens, heads, hd, scale, out);
}

// PolyV MoE stage 3: the experts, a grouped GEMM over the expert-contiguous entries made by
// token_permutation.cu (moe_align_v2). Each expert e is a Qwen2 SwiGLU FFN without biases:
//   h[i, :] = silu(A_i . gate_e^T) * (A_i . up_e^T)        [rows, ffn]    (phase 1, "gate_up")
//   y[i, :] = row_scale[i] * (h_i . down_e^T)              [rows, hidden] (phase 2, "down")
// for the entries i in [offsets[e], offsets[e+1]) (any count, 0 included). A_i is row a_rows[i] of A
// when a_rows is given (pass perm_token to read the token rows of x directly, no permuted copy) and
// row i of A otherwise. row_scale is perm_weight (the router weight of the entry) or null (= 1).
//
// COMBINE: not fused. Two experts write to the same token row, so a fused scatter needs atomics (or a
// second pass) and would not be bitwise reproducible; y stays in entry order and moe_combine_v2_f32
// (token_permutation.cu) sums the k rows of each token in slot order with w = null.
//
// Weights are stacked per expert, PyTorch [out, in] order, bf16, contiguous:
//   gate_w, up_w [M, ffn, hidden]; down_w [M, hidden, ffn].
// Requirements (checked by the Java launcher): K % 8 == 0 and N % 2 == 0 for every GEMM (hidden and
// ffn), 16-byte aligned bases, offsets monotone with offsets[0] == 0, M <= 64.
//
// Kernels:
//   expert_gate_up_mma_v2 / expert_down_mma_v2   tensor cores (mma.sync m16n8k16 bf16 -> fp32, ldmatrix,
//       3-stage cp.async pipeline, XOR-swizzled shared memory). CTA tile 128 rows x 128 columns x 32,
//       256 threads = 8 warps as 2 (rows) x 4 (columns), warp tile 64 x 32. gate_up computes the gate
//       and the up tile of the same 64 columns from one A tile (two accumulator sets, A read once).
//       grid = (ceil(n / 128) + M, ceil(N / BN)) with BN = 64 (gate_up) or 128 (down); CTA x walks the
//       experts' row tiles in expert order, CTAs past the last tile exit. Static shared memory 48 KiB.
//       Runs on sm_80 and sm_90a (no wgmma: see the report for the Hopper gap).
//   expert_gate_up_gemv_v2 / expert_down_gemv_v2  decode (n <= 16 entries, <= 8 rows per expert): each
//       warp owns one output column n, streams the weight row(s) of column n once with 16-byte loads
//       and dots them with the expert's <= 8 rows. grid = (ceil(N / 8), M), block = 256; experts with
//       no rows exit before reading a weight byte, so only the chosen experts' weights are read.
//   expert_gate_up_v1 / expert_down_v1            reference: one thread per output element, fp32.
#include <cuda_bf16.h>
#include "polyv_std.cuh"

#include "polyv_mma.cuh"

namespace {

using bf16 = __nv_bfloat16;
using namespace polyv;

constexpr int BM = 128, BN = 128, BK = 32, STAGES = 3, THREADS = 256;
constexpr int GEMV_WARPS = 8, GEMV_ROWS = 8;

// Shared tile [rows][BK] bf16 = rows x 4 chunks of 16 bytes; chunk c of row r lives at chunk
// c ^ ((r >> 1) & 3), so the 8 rows one ldmatrix phase reads fall in 8 different 16-byte bank groups.
__device__ __forceinline__ int swz(int row, int chunk) { return row * BK + ((chunk ^ ((row >> 1) & 3)) << 3); }

// Finds the expert and first entry of this CTA's row tile; false if the CTA has no tile.
__device__ __forceinline__ bool find_tile(const int* __restrict__ offsets, int M, int& expert, int& row0, int& rows) {
    int tile = blockIdx.x;
    for (int e = 0; e < M; ++e) {
        const int cnt = offsets[e + 1] - offsets[e];
        const int tiles = (cnt + BM - 1) / BM;
        if (tile < tiles) {
            expert = e;
            row0 = offsets[e] + tile * BM;
            rows = min(BM, cnt - tile * BM);
            return true;
        }
        tile -= tiles;
    }
    return false;
}

// DUAL: B0 = gate, B1 = up, CTA columns [by * 64, by * 64 + 64) of both; smem rows 0..63 gate, 64..127 up.
// !DUAL: B0 = down, CTA columns [by * 128, by * 128 + 128).
template <bool DUAL>
__device__ void grouped_mma(const bf16* __restrict__ A, const int* __restrict__ a_rows, const bf16* __restrict__ B0,
                            const bf16* __restrict__ B1, const int* __restrict__ offsets, int M, int N, int K,
                            const float* __restrict__ row_scale, bf16* __restrict__ out_h, float* __restrict__ out_y) {
    __shared__ __align__(128) bf16 sA[STAGES][BM * BK];
    __shared__ __align__(128) bf16 sB[STAGES][BN * BK];

    int expert, row0, rows;
    if (!find_tile(offsets, M, expert, row0, rows)) return;
    const int ncols = DUAL ? BN / 2 : BN;  // output columns per matrix in this CTA
    const int n0 = blockIdx.y * ncols;
    if (n0 >= N) return;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int warp_m = warp >> 2, warp_n = warp & 3;
    const size_t wstride = (size_t)N * K;
    const bf16* b0 = B0 + expert * wstride;
    const bf16* b1 = DUAL ? B1 + expert * wstride : nullptr;

    // Each thread copies 2 A chunks and 2 B chunks per stage: chunk id = tid + 256 * i, row = id / 4.
    const bf16* a_src[2];
    bool a_ok[2];
    const bf16* b_src[2];
    bool b_ok[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
        const int id = tid + THREADS * i, r = id >> 2;
        a_ok[i] = r < rows;
        const int arow = a_ok[i] ? (a_rows != nullptr ? a_rows[row0 + r] : row0 + r) : 0;
        a_src[i] = A + (size_t)arow * K + (id & 3) * 8;
        int n;
        const bf16* base;
        if (DUAL) {
            n = n0 + (r & 63);
            base = r < 64 ? b0 : b1;
        } else {
            n = n0 + r;
            base = b0;
        }
        b_ok[i] = n < N;
        b_src[i] = base + (size_t)(b_ok[i] ? n : 0) * K + (id & 3) * 8;
    }

    auto load_stage = [&](int stage, int kt) {
        const int k0 = kt * BK;
#pragma unroll
        for (int i = 0; i < 2; ++i) {
            const int id = tid + THREADS * i, r = id >> 2, c = id & 3;
            const bool kin = k0 + c * 8 < K;
            cp_async_16(&sA[stage][swz(r, c)], kin ? a_src[i] + k0 : A, (a_ok[i] && kin) ? 16 : 0);
            cp_async_16(&sB[stage][swz(r, c)], kin ? b_src[i] + k0 : b0, (b_ok[i] && kin) ? 16 : 0);
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int mi = 0; mi < 4; ++mi)
#pragma unroll
        for (int ni = 0; ni < 4; ++ni)
#pragma unroll
            for (int q = 0; q < 4; ++q) acc[mi][ni][q] = 0.f;

    const int ktiles = (K + BK - 1) / BK;
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < ktiles) load_stage(s, s);
        cp_async_commit();
    }

    for (int kt = 0; kt < ktiles; ++kt) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        const int stage = kt % STAGES;
#pragma unroll
        for (int kk = 0; kk < BK / 16; ++kk) {
            uint32_t af[4][4];
#pragma unroll
            for (int mi = 0; mi < 4; ++mi) {
                const int r = warp_m * 64 + mi * 16 + (lane & 15);
                ldmatrix_x4(af[mi][0], af[mi][1], af[mi][2], af[mi][3], &sA[stage][swz(r, kk * 2 + (lane >> 4))]);
            }
            uint32_t bfr[4][2];
#pragma unroll
            for (int p = 0; p < 2; ++p) {  // two ldmatrix.x4, each 16 columns (two n8 tiles)
                const int nb = DUAL ? (p == 0 ? warp_n * 16 : 64 + warp_n * 16) : warp_n * 32 + p * 16;
                const int r = nb + (lane & 7) + ((lane >> 4) << 3);
                ldmatrix_x4(bfr[2 * p][0], bfr[2 * p][1], bfr[2 * p + 1][0], bfr[2 * p + 1][1],
                            &sB[stage][swz(r, kk * 2 + ((lane >> 3) & 1))]);
            }
#pragma unroll
            for (int mi = 0; mi < 4; ++mi)
#pragma unroll
                for (int ni = 0; ni < 4; ++ni) mma_bf16_16816(acc[mi][ni], af[mi], bfr[ni][0], bfr[ni][1]);
        }
        const int next = kt + STAGES - 1;
        if (next < ktiles) load_stage(next % STAGES, next);
        cp_async_commit();
    }
    cp_async_wait<0>();

    // Epilogue. Thread holds rows (g, g + 8) and columns (2t, 2t + 1) of each 16x8 tile.
    const int g = lane >> 2, t4 = lane & 3;
#pragma unroll
    for (int mi = 0; mi < 4; ++mi) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
            const int r = warp_m * 64 + mi * 16 + g + half * 8;
            if (r >= rows) continue;
            const size_t entry = (size_t)row0 + r;
            if (DUAL) {
#pragma unroll
                for (int ni = 0; ni < 2; ++ni) {
                    const int col = n0 + warp_n * 16 + ni * 8 + 2 * t4;
                    if (col >= N) continue;
                    const float h0 = silu(acc[mi][ni][2 * half]) * acc[mi][ni + 2][2 * half];
                    const float h1 = silu(acc[mi][ni][2 * half + 1]) * acc[mi][ni + 2][2 * half + 1];
                    *reinterpret_cast<uint32_t*>(out_h + entry * N + col) = pack_bf16x2(h0, h1);
                }
            } else {
                const float s = row_scale != nullptr ? row_scale[entry] : 1.f;
#pragma unroll
                for (int ni = 0; ni < 4; ++ni) {
                    const int col = n0 + warp_n * 32 + ni * 8 + 2 * t4;
                    if (col >= N) continue;
                    *reinterpret_cast<float2*>(out_y + entry * N + col) =
                        make_float2(s * acc[mi][ni][2 * half], s * acc[mi][ni][2 * half + 1]);
                }
            }
        }
    }
}

// Decode path: warp per output column n of expert blockIdx.y, up to GEMV_ROWS rows at a time.
template <bool DUAL>
__device__ void grouped_gemv(const bf16* __restrict__ A, const int* __restrict__ a_rows, const bf16* __restrict__ B0,
                             const bf16* __restrict__ B1, const int* __restrict__ offsets, int N, int K,
                             const float* __restrict__ row_scale, bf16* __restrict__ out_h, float* __restrict__ out_y) {
    const int e = blockIdx.y;
    const int first = offsets[e], cnt = offsets[e + 1] - first;
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5);
    if (cnt <= 0 || n >= N) return;
    const bf16* w0 = B0 + ((size_t)e * N + n) * K;
    const bf16* w1 = DUAL ? B1 + ((size_t)e * N + n) * K : nullptr;
    for (int r0 = 0; r0 < cnt; r0 += GEMV_ROWS) {
        const int nr = min(GEMV_ROWS, cnt - r0);
        const bf16* arow[GEMV_ROWS];
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; ++r) {
            const int entry = first + r0 + min(r, nr - 1);
            arow[r] = A + (size_t)(a_rows != nullptr ? a_rows[entry] : entry) * K;
        }
        float acc0[GEMV_ROWS], acc1[GEMV_ROWS];
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; ++r) acc0[r] = acc1[r] = 0.f;
        for (int c = lane * 8; c < K; c += 32 * 8) {
            float wa[8], wb[8];
            bf16x8_to_float(__ldg(reinterpret_cast<const uint4*>(w0 + c)), wa);
            if (DUAL) bf16x8_to_float(__ldg(reinterpret_cast<const uint4*>(w1 + c)), wb);
#pragma unroll
            for (int r = 0; r < GEMV_ROWS; ++r) {
                if (r < nr) {
                    float xa[8];
                    bf16x8_to_float(*reinterpret_cast<const uint4*>(arow[r] + c), xa);
#pragma unroll
                    for (int i = 0; i < 8; ++i) {
                        acc0[r] = fmaf(xa[i], wa[i], acc0[r]);
                        if (DUAL) acc1[r] = fmaf(xa[i], wb[i], acc1[r]);
                    }
                }
            }
        }
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; ++r) {
            if (r < nr) {
                const float s0 = warp_sum(acc0[r]);
                const float s1 = DUAL ? warp_sum(acc1[r]) : 0.f;
                if (lane == 0) {
                    const size_t entry = (size_t)first + r0 + r;
                    if (DUAL) out_h[entry * N + n] = __float2bfloat16(silu(s0) * s1);
                    else out_y[entry * N + n] = (row_scale != nullptr ? row_scale[entry] : 1.f) * s0;
                }
            }
        }
    }
}

__device__ __forceinline__ int expert_of(const int* __restrict__ offsets, int M, int entry) {
    int e = 0;
    while (e + 1 < M && entry >= offsets[e + 1]) ++e;
    return e;
}

}  // namespace

// Phase 1, tensor cores. A = x [tokens, hidden] (with a_rows = perm_token) or x_perm [n, hidden].
extern "C" __global__ void __launch_bounds__(THREADS)
    expert_gate_up_mma_v2(const bf16* __restrict__ A,        // [*, K] rows read through a_rows
                          const int* __restrict__ a_rows,    // [n] or null
                          const bf16* __restrict__ gate_w,   // [M, N, K] = [M, ffn, hidden]
                          const bf16* __restrict__ up_w,     // [M, N, K]
                          const int* __restrict__ offsets,   // [M + 1]
                          int M, int N, int K,               // N = ffn, K = hidden
                          bf16* __restrict__ h) {            // [n, N] silu(gate) * up
    grouped_mma<true>(A, a_rows, gate_w, up_w, offsets, M, N, K, nullptr, h, nullptr);
}

// Phase 2, tensor cores. A = h [n, ffn]; y in entry order.
extern "C" __global__ void __launch_bounds__(THREADS)
    expert_down_mma_v2(const bf16* __restrict__ h,           // [n, K]
                       const bf16* __restrict__ down_w,      // [M, N, K] = [M, hidden, ffn]
                       const int* __restrict__ offsets,      // [M + 1]
                       int M, int N, int K,                  // N = hidden, K = ffn
                       const float* __restrict__ row_scale,  // [n] (perm_weight) or null
                       float* __restrict__ y) {              // [n, N]
    grouped_mma<false>(h, nullptr, down_w, nullptr, offsets, M, N, K, row_scale, nullptr, y);
}

// Decode phase 1. block = 256, grid = (ceil(N / 8), M).
extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32)
    expert_gate_up_gemv_v2(const bf16* __restrict__ A, const int* __restrict__ a_rows, const bf16* __restrict__ gate_w,
                           const bf16* __restrict__ up_w, const int* __restrict__ offsets, int M, int N, int K,
                           bf16* __restrict__ h) {
    (void)M;
    grouped_gemv<true>(A, a_rows, gate_w, up_w, offsets, N, K, nullptr, h, nullptr);
}

// Decode phase 2. block = 256, grid = (ceil(N / 8), M).
extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32)
    expert_down_gemv_v2(const bf16* __restrict__ h, const bf16* __restrict__ down_w, const int* __restrict__ offsets,
                        int M, int N, int K, const float* __restrict__ row_scale, float* __restrict__ y) {
    (void)M;
    grouped_gemv<false>(h, nullptr, down_w, nullptr, offsets, N, K, row_scale, nullptr, y);
}

// Reference phase 1: one thread per (entry, column). block = 256, grid = ceil(n * N / 256).
extern "C" __global__ void expert_gate_up_v1(const bf16* __restrict__ A, const int* __restrict__ a_rows,
                                             const bf16* __restrict__ gate_w, const bf16* __restrict__ up_w,
                                             const int* __restrict__ offsets, int M, int N, int K,
                                             bf16* __restrict__ h) {
    const size_t n_entries = (size_t)offsets[M];
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_entries * N) return;
    const int entry = (int)(i / N), col = (int)(i % N);
    const int e = expert_of(offsets, M, entry);
    const bf16* a = A + (size_t)(a_rows != nullptr ? a_rows[entry] : entry) * K;
    const bf16* wg = gate_w + ((size_t)e * N + col) * K;
    const bf16* wu = up_w + ((size_t)e * N + col) * K;
    float g = 0.f, u = 0.f;
    for (int c = 0; c < K; ++c) {
        const float x = __bfloat162float(a[c]);
        g += x * __bfloat162float(wg[c]);
        u += x * __bfloat162float(wu[c]);
    }
    h[i] = __float2bfloat16(g / (1.f + expf(-g)) * u);
}

// Reference phase 2: one thread per (entry, column). block = 256, grid = ceil(n * N / 256).
extern "C" __global__ void expert_down_v1(const bf16* __restrict__ h, const bf16* __restrict__ down_w,
                                          const int* __restrict__ offsets, int M, int N, int K,
                                          const float* __restrict__ row_scale, float* __restrict__ y) {
    const size_t n_entries = (size_t)offsets[M];
    const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_entries * N) return;
    const int entry = (int)(i / N), col = (int)(i % N);
    const int e = expert_of(offsets, M, entry);
    const bf16* a = h + (size_t)entry * K;
    const bf16* w = down_w + ((size_t)e * N + col) * K;
    float s = 0.f;
    for (int c = 0; c < K; ++c) s += __bfloat162float(a[c]) * __bfloat162float(w[c]);
    y[i] = (row_scale != nullptr ? row_scale[entry] : 1.f) * s;
}

// One attention row: query q[0..hd) against key rows [k0, k1) of k / v (row stride kvStride floats),
// softmax(q . k * scale) . v written to out[0..hd). Single pass with an online softmax (running max
// and sum, as in flash-decoding), so any number of keys fits without a score buffer.
//
// Work split (the simple reference attention; the fast windowed flash kernel of the vision tower
// lives in window_attention.cu): one block of ATT_WARPS warps per (query row, head). Warp w takes
// keys k0 + w, k0 + w + ATT_WARPS, ...; lane l owns dimensions l, l + 32, ... (hd <= 256). Each warp
// keeps its own (max, sum, acc[hd]); the warps are merged through shared memory at the end.
#pragma once
#include "polyv_common.cuh"

namespace polyv {

constexpr int ATT_WARPS = 4;
constexpr int ATT_MAX_HD = 256;
constexpr int ATT_PER_LANE = ATT_MAX_HD / 32;

__device__ __forceinline__ void attend_row(const float* q, const float* k, const float* v, float* out,
                                           long long kvStride, int k0, int k1, int hd, float scale) {
    __shared__ float s_max[ATT_WARPS];
    __shared__ float s_sum[ATT_WARPS];
    __shared__ float s_acc[ATT_WARPS][ATT_MAX_HD];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

    float qr[ATT_PER_LANE], acc[ATT_PER_LANE];
#pragma unroll
    for (int j = 0; j < ATT_PER_LANE; j++) {
        const int c = lane + 32 * j;
        qr[j] = c < hd ? q[c] : 0.0f;
        acc[j] = 0.0f;
    }
    float m = neg_inf(), l = 0.0f;
    for (int key = k0 + warp; key < k1; key += ATT_WARPS) {
        const float* kr = k + key * kvStride;
        const float* vr = v + key * kvStride;
        float s = 0.0f;
#pragma unroll
        for (int j = 0; j < ATT_PER_LANE; j++) {
            const int c = lane + 32 * j;
            if (c < hd) s += qr[j] * kr[c];
        }
        s = warp_sum(s) * scale;
        const float mNew = fmaxf(m, s);
        const float corr = expf(m - mNew);   // 0 on the first key (m = -inf)
        const float p = expf(s - mNew);
        l = l * corr + p;
#pragma unroll
        for (int j = 0; j < ATT_PER_LANE; j++) {
            const int c = lane + 32 * j;
            acc[j] = acc[j] * corr + (c < hd ? p * vr[c] : 0.0f);
        }
        m = mNew;
    }
    if (lane == 0) {
        s_max[warp] = m;
        s_sum[warp] = l;
    }
#pragma unroll
    for (int j = 0; j < ATT_PER_LANE; j++) {
        const int c = lane + 32 * j;
        if (c < hd) s_acc[warp][c] = acc[j];
    }
    __syncthreads();
    float mAll = neg_inf();
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) mAll = fmaxf(mAll, s_max[w]);
    float lAll = 0.0f, f[ATT_WARPS];
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) {
        f[w] = s_sum[w] > 0.0f ? expf(s_max[w] - mAll) : 0.0f;   // a warp that saw no key adds nothing
        lAll += s_sum[w] * f[w];
    }
    const float inv = lAll > 0.0f ? 1.0f / lAll : 0.0f;
    for (int c = threadIdx.x; c < hd; c += blockDim.x) {
        float o = 0.0f;
#pragma unroll
        for (int w = 0; w < ATT_WARPS; w++) o += s_acc[w][c] * f[w];
        out[c] = o * inv;
    }
}

}  // namespace polyv

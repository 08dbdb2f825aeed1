// Router softmax + top-k (the simple version; moe_router.cu holds the fused router GEMM + top-k).
// logits [n, m] F32 (m <= 256); per row p = softmax(logits) in float32 (max-subtracted, the sum taken
// in expert order, as the reference), then the k largest p in descending order, ties to the lower
// expert index (strict >); with renormalize the k weights are divided by their sum.
// ids [n, k] int32, weights [n, k] F32. Launch: 1-D, one thread per row.
#include "polyv_common.cuh"

extern "C" __global__ void softmax_topk_f32(const float* logits, int n, int m, int k, int renormalize, int* ids, float* weights) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= n) return;
    const float* lr = logits + static_cast<long long>(r) * m;
    float mx = polyv::neg_inf();
    for (int e = 0; e < m; e++) mx = fmaxf(mx, lr[e]);
    float sum = 0.0f;
    for (int e = 0; e < m; e++) sum += expf(lr[e] - mx);
    unsigned long long taken[4] = {0ull, 0ull, 0ull, 0ull};
    float wsum = 0.0f;
    for (int j = 0; j < k; j++) {
        int best = -1;
        float bestP = 0.0f;
        for (int e = 0; e < m; e++) {
            if ((taken[e >> 6] >> (e & 63)) & 1ull) continue;
            const float p = expf(lr[e] - mx) / sum;
            if (best < 0 || p > bestP) {
                best = e;
                bestP = p;
            }
        }
        taken[best >> 6] |= 1ull << (best & 63);
        ids[static_cast<long long>(r) * k + j] = best;
        weights[static_cast<long long>(r) * k + j] = bestP;
        wsum += bestP;
    }
    if (renormalize) {
        for (int j = 0; j < k; j++) weights[static_cast<long long>(r) * k + j] /= wsum;
    }
}

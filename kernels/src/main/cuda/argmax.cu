// Greedy choice: ids[r] = argmax_c x[r, c] over x [rows, cols] F32, ties to the lower index, NaN never
// chosen (a row of only NaN gives 0). Launch: grid = rows, block = 256.
#include "polyv_common.cuh"

__device__ __forceinline__ bool better(float v, int i, float bv, int bi) {
    return v > bv || (v == bv && i < bi) || (bi < 0 && v == v);
}

extern "C" __global__ void argmax_f32(const float* x, int rows, int cols, int* ids) {
    __shared__ float s_val[32];
    __shared__ int s_idx[32];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const float* xr = x + static_cast<long long>(r) * cols;
    float bv = polyv::neg_inf();
    int bi = -1;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const float v = xr[c];
        if (better(v, c, bv, bi)) {
            bv = v;
            bi = c;
        }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, o);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && better(ov, oi, bv, bi)) {
            bv = ov;
            bi = oi;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) {
        s_val[warp] = bv;
        s_idx[warp] = bi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < warps; w++) {
            if (s_idx[w] >= 0 && better(s_val[w], s_idx[w], bv, bi)) {
                bv = s_val[w];
                bi = s_idx[w];
            }
        }
        ids[r] = bi < 0 ? 0 : bi;
    }
}

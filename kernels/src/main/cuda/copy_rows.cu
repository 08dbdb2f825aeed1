// Row copy for gatherRows / scatterRows: dst[dstRows[i], :] = src[srcRows[i], :] for i < count,
// a null index array meaning the identity (i). F32 rows of d columns. The host guarantees that the
// destination rows are distinct (scatterRows keeps only the last write to a row, as the CPU does)
// and that the source and destination do not overlap. Launch: grid = count, block = 256.
#include "polyv_common.cuh"

extern "C" __global__ void copy_rows_f32(const float* src, const int* srcRows, float* dst, const int* dstRows, int count, int d) {
    const int i = blockIdx.x;
    if (i >= count) return;
    const long long s = static_cast<long long>(srcRows == nullptr ? i : srcRows[i]) * d;
    const long long t = static_cast<long long>(dstRows == nullptr ? i : dstRows[i]) * d;
    for (int c = threadIdx.x; c < d; c += blockDim.x) dst[t + c] = src[s + c];
}

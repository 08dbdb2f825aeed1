// Rotate-half rotary embedding, in place: for row r and head h of x [rows, heads*hd] (F32),
// x = x * cos[r] + rotate_half(x) * sin[r], rotate_half(x) = [-x[hd/2:], x[:hd/2]], cos/sin [rows, hd].
// The tables (text M-RoPE or vision 2-D RoPE) are computed on the host. Each thread owns one pair
// (c, c + hd/2) of one head, so the in-place update needs no copy. Launch: grid = rows, block = 128.
#include "polyv_common.cuh"

extern "C" __global__ void rope_f32(float* x, int rows, int heads, int hd, const float* cos, const float* sin) {
    const int r = blockIdx.x;
    if (r >= rows) return;
    const int half = hd / 2;
    const float* cr = cos + static_cast<long long>(r) * hd;
    const float* sr = sin + static_cast<long long>(r) * hd;
    float* xr = x + static_cast<long long>(r) * heads * hd;
    for (int p = threadIdx.x; p < heads * half; p += blockDim.x) {
        const int h = p / half, c = p % half;
        float* xh = xr + h * hd;
        const float a = xh[c], b = xh[c + half];
        xh[c] = a * cr[c] - b * sr[c];
        xh[c + half] = b * cr[c + half] + a * sr[c + half];
    }
}

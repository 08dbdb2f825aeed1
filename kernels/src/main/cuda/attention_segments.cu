// Non-causal attention inside segments (vision windows / frames), the simple reference version
// (window_attention.cu holds the fast flash kernel). q, k, v, out [n, heads*hd] F32; row i attends to
// key rows [rowStart[i], rowEnd[i]) (its segment, computed from cuSeqlens on the host).
// Launch: grid = n * heads, block = 32 * ATT_WARPS.
#include "attention_rows.cuh"

extern "C" __global__ void attention_segments_f32(const float* q, const float* k, const float* v, float* out,
                                                  int n, int heads, int hd, const int* rowStart, const int* rowEnd,
                                                  float scale) {
    const long long b = blockIdx.x;
    const int i = static_cast<int>(b / heads), h = static_cast<int>(b % heads);
    if (i >= n) return;
    const long long off = static_cast<long long>(i) * heads * hd + static_cast<long long>(h) * hd;
    const long long colOff = static_cast<long long>(h) * hd;
    polyv::attend_row(q + off, k + colOff, v + colOff, out + off, static_cast<long long>(heads) * hd,
                      rowStart[i], rowEnd[i], hd, scale);
}

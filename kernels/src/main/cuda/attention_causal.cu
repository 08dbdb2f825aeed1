// Causal grouped-query attention against a KV cache (prefill and decode).
// q, out [n, heads*hd]; k, v [>= start+n, kvHeads*hd] (the cache); query row i sits at position
// start + i and sees key rows 0 .. start+i; query head h reads kv head h / (heads / kvHeads).
// All F32. Launch: grid = n * heads (block b -> row b / heads, head b % heads), block = 32 * ATT_WARPS.
#include "attention_rows.cuh"

extern "C" __global__ void attention_causal_f32(const float* q, const float* k, const float* v, float* out,
                                                int n, int heads, int kvHeads, int hd, int start, float scale) {
    const long long b = blockIdx.x;
    const int i = static_cast<int>(b / heads), h = static_cast<int>(b % heads);
    if (i >= n) return;
    const int group = heads / kvHeads;
    const long long qOff = static_cast<long long>(i) * heads * hd + static_cast<long long>(h) * hd;
    const long long kvOff = static_cast<long long>(h / group) * hd;
    polyv::attend_row(q + qOff, k + kvOff, v + kvOff, out + qOff, static_cast<long long>(kvHeads) * hd,
                      0, start + i + 1, hd, scale);
}

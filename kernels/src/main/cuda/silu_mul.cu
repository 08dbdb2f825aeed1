// SwiGLU activation: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)). All F32, n elements;
// out may alias gate or up. Launch: 1-D grid-stride.
#include "polyv_common.cuh"

extern "C" __global__ void silu_mul_f32(const float* gate, const float* up, float* out, long long n) {
    for (long long i = polyv::grid_index(); i < n; i += polyv::grid_stride()) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

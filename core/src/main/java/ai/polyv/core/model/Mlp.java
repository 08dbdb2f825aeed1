package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;

/** SwiGLU feed-forward: {@code down(silu(gate(x)) * up(x))}. */
final class Mlp {
    private Mlp() {}

    /** {@code x [n, hidden]} -> {@code out [n, hidden]}. */
    static void swiglu(Backend be, ModelWeights.SwiGlu w, Tensor x, Tensor out) {
        int n = x.rows(), inter = w.gate().out();
        try (Workspace tmp = be.workspace()) {
            Tensor g = tmp.f32(n, inter), u = tmp.f32(n, inter);             // [n, inter]
            be.matmul(x, w.gate().w(), w.gate().b(), g);
            be.matmul(x, w.up().w(), w.up().b(), u);
            be.siluMul(g, u, g);
            be.matmul(g, w.down().w(), w.down().b(), out);
        }
    }
}

package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.layout.WeightLayout;

/** SwiGLU feed-forward: {@code down(silu(gate(x)) * up(x))}. */
final class Mlp {
    private Mlp() {}

    /** {@code x [n, hidden]} -> {@code out [n, hidden]}. */
    static void swiglu(Backend be, WeightLayout.SwiGlu<Tensor, Tensor> w, Tensor x, Tensor out) {
        int n = x.rows(), inter = w.gate().weight().rows();
        try (Workspace tmp = be.workspace()) {
            Tensor g = tmp.f32(n, inter), u = tmp.f32(n, inter);             // [n, inter]
            be.matmul(x, w.gate().weight(), w.gate().bias(), g);
            be.matmul(x, w.up().weight(), w.up().bias(), u);
            be.siluMul(g, u, g);
            be.matmul(g, w.down().weight(), w.down().bias(), out);
        }
    }
}

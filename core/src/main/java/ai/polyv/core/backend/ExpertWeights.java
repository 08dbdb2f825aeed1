package ai.polyv.core.backend;

import ai.polyv.core.tensor.Tensor;
import java.util.List;

/**
 * The experts of one MoE layer as the {@link Backend#moeExperts} op takes them: per expert {@code e} a
 * bias-free SwiGLU {@code down_e(silu(gate_e x) * up_e x)}.
 *
 * @param gate {@code M} weights {@code [ffn, hidden]}
 * @param up   {@code M} weights {@code [ffn, hidden]}
 * @param down {@code M} weights {@code [hidden, ffn]}
 */
public record ExpertWeights(List<Tensor> gate, List<Tensor> up, List<Tensor> down) {

    public ExpertWeights {
        gate = List.copyOf(gate);
        up = List.copyOf(up);
        down = List.copyOf(down);
        if (gate.isEmpty() || up.size() != gate.size() || down.size() != gate.size()) {
            throw new IllegalArgumentException("expert weights: " + gate.size() + " gate, " + up.size() + " up and "
                    + down.size() + " down matrices (expected the same number, at least 1)");
        }
        int ffn = gate.get(0).rows(), hidden = gate.get(0).cols();
        for (int e = 0; e < gate.size(); e++) {
            check("gate", e, gate.get(e), ffn, hidden);
            check("up", e, up.get(e), ffn, hidden);
            check("down", e, down.get(e), hidden, ffn);
        }
    }

    private static void check(String which, int e, Tensor t, int rows, int cols) {
        if (t.rank() != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("expert " + e + " " + which + " weight must be [" + rows + ", " + cols + "], got " + t);
        }
    }

    public int numExperts() {
        return gate.size();
    }

    public int hidden() {
        return gate.get(0).cols();
    }

    public int ffn() {
        return gate.get(0).rows();
    }
}

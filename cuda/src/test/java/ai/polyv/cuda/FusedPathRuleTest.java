package ai.polyv.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.cuda.CudaBackend.Precision;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The documented rule for when CudaBackend takes the fused PolyV kernels (no device needed). */
class FusedPathRuleTest {

    @Test
    void windowAttentionOnlyInBf16ForHeadDims64To128() {
        assertTrue(CudaBackend.windowAttentionApplies(Precision.BF16, 16 * 80, 16));     // the ViT: 16 x 80
        assertTrue(CudaBackend.windowAttentionApplies(Precision.BF16, 2 * 64, 2));
        assertTrue(CudaBackend.windowAttentionApplies(Precision.BF16, 3 * 128, 3));
        assertFalse(CudaBackend.windowAttentionApplies(Precision.BF16, 4 * 16, 4));      // tiny-a's vision: 4 x 16 -> simple kernel
        assertFalse(CudaBackend.windowAttentionApplies(Precision.BF16, 2 * 96, 2));
        assertFalse(CudaBackend.windowAttentionApplies(Precision.F32, 16 * 80, 16));     // fp32 keeps the fp32 kernel
        assertFalse(CudaBackend.windowAttentionApplies(Precision.BF16, 100, 3));         // not a whole number of heads
    }

    @Test
    void fusedRouterNeedsBf16WeightsHiddenMultipleOf8AndAtMost64Experts() {
        assertTrue(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 1, 3584, 4, 2));
        assertTrue(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 4096, 96, 64, 8));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.F32, DType.F32, DType.BF16, 1, 3584, 4, 2));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.F32, 1, 3584, 4, 2));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 1, 3583, 4, 2));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 1, 96, 65, 2));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 0, 96, 4, 2));
        assertFalse(CudaBackend.fusedRouterApplies(Precision.BF16, DType.F32, DType.BF16, 3, 96, 4, 5));
    }

    @Test
    void fusedExpertsNeedEveryExpertWeightInBf16AndWidthsMultipleOf8() {
        try (Arena arena = Arena.ofConfined()) {
            ExpertWeights bf16 = experts(arena, DType.BF16, DType.BF16, 96, 160);
            assertTrue(CudaBackend.fusedExpertsApply(Precision.BF16, DType.F32, 1, bf16));
            assertFalse(CudaBackend.fusedExpertsApply(Precision.F32, DType.F32, 1, bf16));
            assertFalse(CudaBackend.fusedExpertsApply(Precision.BF16, DType.F32, 0, bf16));
            assertFalse(CudaBackend.fusedExpertsApply(Precision.BF16, DType.F32, 5, experts(arena, DType.BF16, DType.F32, 96, 160)));
            assertFalse(CudaBackend.fusedExpertsApply(Precision.BF16, DType.F32, 5, experts(arena, DType.BF16, DType.BF16, 96, 53)));
            assertFalse(CudaBackend.fusedExpertsApply(Precision.BF16, DType.F32, 5, experts(arena, DType.BF16, DType.BF16, 92, 160)));
        }
    }

    /** Two experts; the second's down weight in {@code lastDown}. */
    private static ExpertWeights experts(Arena arena, DType dt, DType lastDown, int hidden, int ffn) {
        Tensor g = host(arena, dt, ffn, hidden), d0 = host(arena, dt, hidden, ffn), d1 = host(arena, lastDown, hidden, ffn);
        return new ExpertWeights(List.of(g, g), List.of(g, g), List.of(d0, d1));
    }

    private static Tensor host(Arena arena, DType dt, int rows, int cols) {
        return new Tensor(dt, arena.allocate((long) rows * cols * dt.byteSize(), 64), rows, cols);
    }
}

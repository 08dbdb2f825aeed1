package ai.polyv.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.polyv.loader.config.PolyVConfig;
import org.junit.jupiter.api.Test;

/** The polyv-7b benchmark config (docs/spec.md §2) and its parameter counts, computed by hand here. */
class ModelConfigsTest {
    // Qwen2.5-VL-7B text shapes
    static final long H = 3584, F = 18944, KV = 4 * 128, V = 152064;
    static final long ATTN = H * H + H + 2 * (H * KV + KV) + H * H;     // q (bias), k, v (bias), o
    static final long MLP = 3 * H * F;                                  // gate, up, down
    static final long ROUTER = 4 * H;

    @Test
    void polyv7bHasQwenShapesAndSevenMoeLayers() {
        PolyVConfig c = ModelConfigs.named("polyv-7b");
        assertEquals(3584, c.text().hiddenSize());
        assertEquals(18944, c.text().intermediateSize());
        assertEquals(28, c.text().numLayers());
        assertEquals(152064, c.text().vocabSize());
        assertArrayEquals(new int[] {0, 4, 8, 12, 16, 20, 24}, c.moe().layers());
        assertEquals(4, c.moe().numExperts());
        assertEquals(2, c.moe().topK());
        assertEquals(32, c.vision().depth());
        assertEquals(1280, c.vision().hiddenSize());
    }

    @Test
    void polyv7bParameterCountsMatchTheHandCount() {
        ModelConfigs.ParameterCounts p = ModelConfigs.count(ModelConfigs.polyv7b());
        long llm = V * H + 28 * (ATTN + 2 * H) + 21 * MLP + 7 * (4 * MLP + ROUTER) + H;   // embedding, layers, final norm
        assertEquals(11_348_123_136L, llm);
        assertEquals(llm, p.llm());
        assertEquals(llm - 7 * 2 * MLP, p.llmActive());                                 // 2 of 4 experts per MoE layer run
        assertEquals(8_496_520_704L, p.llmActive());
        assertEquals(V * H, p.lmHead());
        assertEquals(p.llm() + p.lmHead() + p.vision(), p.total());                    // no synergy heads in this config
        assertEquals(11.3, Math.floor(p.llm() / 1e8) / 10, 1e-9);                      // docs/spec.md: "11.3B total"
    }

    @Test
    void unknownConfigNamesTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfigs.named("polyv-70b"));
        assertEquals("--config must be one of [mid, polyv-7b], got 'polyv-70b'", e.getMessage());
    }
}

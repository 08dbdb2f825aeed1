package ai.polyv.train;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainStageTest {

    @Test
    void stageSelectsByHubName() {
        for (TrainStage s : TrainStage.values()) {
            assertTrue(s.trainable("model.layers.4.mlp.gate.weight"), s + " router");
            assertTrue(s.trainable("synergy_heads.temporal.fc1.weight"), s + " head");
            assertTrue(s.trainable("synergy_heads.spatial.fc2.bias"), s + " head");
            assertFalse(s.trainable("model.layers.4.mlp.gate_proj.weight"), s + " dense FFN");
            assertFalse(s.trainable("model.layers.4.self_attn.q_proj.weight"), s.label());
            assertFalse(s.trainable("model.embed_tokens.weight"), s.label());
            assertFalse(s.trainable("lm_head.weight"), s.label());
            assertFalse(s.trainable("visual.blocks.0.mlp.gate_proj.weight"), s.label());
            assertFalse(s.trainable("model.layers.x.mlp.gate.weight"), s.label());
        }
        assertFalse(TrainStage.STAGE_2_1.trainable("model.layers.4.mlp.experts.3.down_proj.weight"));
        assertTrue(TrainStage.STAGE_2_2.trainable("model.layers.4.mlp.experts.3.down_proj.weight"));
        assertTrue(TrainStage.STAGE_2_2.trainable("model.layers.12.mlp.experts.0.gate_proj.weight"));
        assertEquals(TrainStage.STAGE_2_2, TrainStage.parse("2-2"));
        assertEquals("--stage must be 2-1 or 2-2, got \"3\"", assertThrows(IllegalArgumentException.class, () -> TrainStage.parse("3")).getMessage());
    }

    /** On the golden tiny-a checkpoint (MoE layers 0 and 4, 4 experts): exact counts per stage. */
    @Test
    void goldenCheckpointCounts() {
        Path dir = SharedData.golden("tiny-a");
        try (var ck = ai.polyv.loader.safetensors.Checkpoint.open(dir)) {
            List<String> s21 = ck.names().stream().filter(TrainStage.STAGE_2_1::trainable).toList();
            List<String> s22 = ck.names().stream().filter(TrainStage.STAGE_2_2::trainable).toList();
            // 2 routers + 2 heads x (fc1, fc2) x (weight, bias)
            assertEquals(2 + 8, s21.size(), s21.toString());
            // + 2 layers x 4 experts x 3 projections
            assertEquals(2 + 8 + 24, s22.size(), s22.toString());
        }
    }
}

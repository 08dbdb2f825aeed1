package ai.polyv.loader.layout;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.ConfigException;
import ai.polyv.loader.config.PolyVConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class HubNamingTest {

    @Test
    void translatesBothWays() {
        HubNaming t5 = HubNaming.TRANSFORMERS_5;
        assertEquals("model.language_model.layers.3.self_attn.q_proj.weight", t5.stored("model.layers.3.self_attn.q_proj.weight"));
        assertEquals("model.language_model.embed_tokens.weight", t5.stored(HubNames.EMBED_TOKENS));
        assertEquals("model.language_model.norm.weight", t5.stored(HubNames.FINAL_NORM));
        assertEquals("model.visual.blocks.0.attn.qkv.bias", t5.stored("visual.blocks.0.attn.qkv.bias"));
        assertEquals("lm_head.weight", t5.stored(HubNames.LM_HEAD));
        assertEquals("synergy_heads.temporal.fc1.weight", t5.stored("synergy_heads.temporal.fc1.weight"));
        for (String n : List.of("model.layers.3.mlp.experts.1.up_proj.weight", "visual.merger.mlp.0.weight", "lm_head.weight")) {
            assertEquals(n, t5.canonical(t5.stored(n)));
            assertEquals(n, HubNaming.ORIGINAL.stored(n));
        }
    }

    @Test
    void detectsTheNamingAndRefusesAMix() {
        assertEquals(HubNaming.ORIGINAL, HubNaming.detect(List.of("model.layers.0.mlp.up_proj.weight", "visual.patch_embed.proj.weight"), "x"));
        assertEquals(HubNaming.TRANSFORMERS_5, HubNaming.detect(List.of("model.language_model.norm.weight", "lm_head.weight"), "x"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubNaming.detect(List.of("model.layers.0.mlp.up_proj.weight", "model.visual.patch_embed.proj.weight"), "ckpt"));
        assertTrue(e.getMessage().contains("ckpt") && e.getMessage().contains("model.visual.patch_embed.proj.weight"), e.getMessage());
    }

    @Test
    void familyFromArchitectures() throws Exception {
        assertEquals(ModelFamily.POLYV, ModelFamily.of(PolyVConfig.load(SharedData.golden("tiny-a"))));
        Path qwen = Path.of(HubNamingTest.class.getResource("/qwen25vl-7b/config.json").toURI());
        PolyVConfig dense = PolyVConfig.load(qwen);
        assertEquals(ModelFamily.QWEN2_5_VL, ModelFamily.of(dense));
        assertEquals(ModelFamily.QWEN2_5_VL, ModelFamily.of(PolyVConfig.load(Path.of(HubNamingTest.class.getResource("/qwen25vl-7b-nested/config.json").toURI()))));
        assertEquals(ModelFamily.POLYV, ModelFamily.of(PolyVConfig.load(Path.of(HubNamingTest.class.getResource("/polyv-7b/config.json").toURI()))));
        // a Qwen2.5-VL config may not declare PolyV's parts
        PolyVConfig withMoe = dense.withMoe(new ai.polyv.loader.config.MoeConfig(new int[] {0}, 4, 2, false, 0.01));
        ConfigException e = assertThrows(ConfigException.class, () -> ModelFamily.of(withMoe).layout(withMoe));
        assertTrue(e.getMessage().contains("architectures") && e.getMessage().contains("moe"), e.getMessage());
        String json = dense.toJson().replace("Qwen2_5_VLForConditionalGeneration", "LlavaForConditionalGeneration");
        PolyVConfig other = PolyVConfig.parse(json, "config.json");
        ConfigException u = assertThrows(ConfigException.class, () -> ModelFamily.of(other));
        assertTrue(u.getMessage().contains("LlavaForConditionalGeneration") && u.getMessage().contains("PolyVForConditionalGeneration"), u.getMessage());
    }

    @Test
    void namesAreParsedBackIntoParts() {
        assertEquals(HubNames.Part.MOE_ROUTERS, HubNames.partOf(HubNames.router(4)));
        assertEquals(HubNames.Part.MOE_EXPERTS, HubNames.partOf(HubNames.expert(4, 2) + "down_proj.weight"));
        assertEquals(HubNames.Part.DECODER_DENSE, HubNames.partOf(HubNames.mlp(3) + "gate_proj.weight"));
        assertEquals(HubNames.Part.VISION, HubNames.partOf(HubNames.PATCH_EMBED));
        assertEquals(7, HubNames.layerOf(HubNames.attention(7) + "o_proj.weight"));
        assertEquals(-1, HubNames.layerOf(HubNames.LM_HEAD));
    }
}

package ai.polyv.loader.config;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolyVConfigTest {
    static Path resource(String name) {
        try {
            return Path.of(PolyVConfigTest.class.getResource("/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void loadsTinyA() {
        PolyVConfig c = PolyVConfig.load(SharedData.golden("tiny-a"));
        TextConfig t = c.text();
        assertEquals(96, t.hiddenSize());
        assertEquals(160, t.intermediateSize());
        assertEquals(6, t.numLayers());
        assertEquals(6, t.numHeads());
        assertEquals(2, t.numKvHeads());
        assertEquals(16, t.headDim());
        assertEquals(2048, t.vocabSize());
        assertArrayEquals(new int[] {2, 3, 3}, t.mropeSection());
        assertEquals(1e-6, t.rmsNormEps());
        assertEquals(1e6, t.ropeTheta());
        assertEquals(4096, t.maxPositionEmbeddings());
        VisionConfig v = c.vision();
        assertEquals(4, v.depth());
        assertEquals(64, v.hiddenSize());
        assertEquals(16, v.headDim());
        assertEquals(96, v.outHiddenSize());
        assertArrayEquals(new int[] {1, 3}, v.fullattBlockIndexes());
        assertEquals(2, v.tokensPerSecond());
        assertArrayEquals(new int[] {0, 4}, c.moe().layers());
        assertTrue(c.isMoeLayer(4));
        assertFalse(c.isMoeLayer(1));
        assertEquals(4, c.moe().numExperts());
        assertEquals(2, c.moe().topK());
        assertFalse(c.moe().normTopkProb());
        assertEquals(0.01, c.moe().auxLossCoef());
        assertEquals(new SynergyConfig(2002, new SynergyConfig.HeadSize(128, 64), new SynergyConfig.HeadSize(128, 48)),
                c.synergy());
        assertEquals(new Position3dConfig("sincos", 10000.0, 28), c.position3d());
        assertEquals(new TokenIds(2000, 2001, 1998, 1999, 1988, List.of(1989)), c.tokens());
        assertEquals("float32", c.torchDtype());
    }

    @Test
    void aConfigPathThatIsNoFileIsNamedAsSuch() {
        ConfigException device = assertThrows(ConfigException.class, () -> PolyVConfig.load(Path.of("/dev/null")));
        assertEquals("config /dev/null is not a regular file", device.getMessage());
        Path noConfig = SharedData.golden("tiny-a").getParent();   // a folder without config.json
        ConfigException missing = assertThrows(ConfigException.class, () -> PolyVConfig.load(noConfig));
        assertEquals("config " + noConfig.resolve("config.json") + " does not exist", missing.getMessage());
    }

    @Test
    void loadsTinyC() {
        PolyVConfig c = PolyVConfig.load(SharedData.golden("tiny-c").resolve("config.json"));
        assertEquals(128, c.text().headDim());
        assertEquals(1, c.text().numKvHeads());
        assertArrayEquals(new int[] {16, 24, 24}, c.text().mropeSection());
        assertEquals(80, c.vision().headDim());
        assertArrayEquals(new int[] {0}, c.moe().layers());
        assertEquals(192, c.synergy().spatial().outSize());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void loadsQwen25Vl7bAsDense() {
        PolyVConfig c = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        TextConfig t = c.text();
        assertEquals(3584, t.hiddenSize());
        assertEquals(18944, t.intermediateSize());
        assertEquals(28, t.numLayers());
        assertEquals(28, t.numHeads());
        assertEquals(4, t.numKvHeads());
        assertEquals(128, t.headDim());
        assertEquals(152064, t.vocabSize());
        assertEquals(128000, t.maxPositionEmbeddings());
        assertArrayEquals(new int[] {16, 24, 24}, t.mropeSection());
        assertEquals(VisionConfig.qwen25vl7b(), c.vision());
        assertEquals(80, c.vision().headDim());
        assertNull(c.moe());
        assertFalse(c.isMoe());
        assertNull(c.synergy());
        assertNull(c.position3d());
        assertEquals(new TokenIds(151655, 151656, 151652, 151653, 151643, List.of(151645)), c.tokens());
    }

    @Test
    void loadsPolyV7b() {
        PolyVConfig c = PolyVConfig.load(resource("polyv-7b/config.json"));
        assertEquals(MoeConfig.polyv7b(), c.moe());
        assertTrue(c.isMoeLayer(24));
        assertFalse(c.isMoeLayer(27));
        assertEquals(151665, c.synergy().tokenId());
        assertEquals(1024, c.synergy().temporal().outSize());
        assertEquals(2048, c.synergy().spatial().outSize());
        PolyVConfig dense = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        assertEquals(dense.text(), c.text());
        assertEquals(dense.vision(), c.vision());
    }

    @Test
    void nestedTextConfigFormGivesTheSameModel() {
        PolyVConfig nested = PolyVConfig.load(resource("qwen25vl-7b-nested/config.json"));
        PolyVConfig flat = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        assertEquals(flat.text(), nested.text());
        assertEquals(flat.vision(), nested.vision());
        assertEquals(List.of(151645, 151643), nested.tokens().eosTokenIds());
        assertEquals(151645, nested.tokens().eosTokenId());
        assertEquals(151643, nested.tokens().bosTokenId());
    }

    @Test
    void defaultsWhereKeysAreAbsent() {
        String json = """
                {"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
                 "num_attention_heads": 28, "vocab_size": 152064,
                 "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}""";
        PolyVConfig c = PolyVConfig.parse(json, "defaults.json");
        assertEquals(1e-6, c.text().rmsNormEps());
        assertEquals(1e6, c.text().ropeTheta());
        assertEquals(28, c.text().numKvHeads());
        assertFalse(c.text().tieWordEmbeddings());
        assertEquals(VisionConfig.qwen25vl7b(), c.vision());
        assertArrayEquals(new int[] {7, 15, 23, 31}, c.vision().fullattBlockIndexes());
        assertEquals(151655, c.tokens().imageTokenId());
        assertNull(c.tokens().bosTokenId());
        assertEquals(-1, c.tokens().eosTokenId());
    }

    @Test
    void toJsonRoundTrips() {
        for (Path p : List.of(SharedData.golden("tiny-a").resolve("config.json"), SharedData.golden("tiny-c").resolve("config.json"),
                resource("qwen25vl-7b/config.json"), resource("polyv-7b/config.json"), resource("qwen25vl-7b-nested/config.json"))) {
            PolyVConfig c = PolyVConfig.load(p);
            String json = c.toJson();
            PolyVConfig back = PolyVConfig.parse(json, "roundtrip of " + p);
            assertEquals(c, back, p.toString());
            assertEquals(json, back.toJson(), p.toString());
        }
        // built in code: dense 7B + MoE, as upcycle will do
        PolyVConfig dense = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        PolyVConfig moe = dense.withMoe(MoeConfig.polyv7b());
        PolyVConfig back = PolyVConfig.parse(moe.toJson(), "moe");
        assertEquals(MoeConfig.polyv7b(), back.moe());
        assertEquals("Qwen2_5_VLForConditionalGeneration", back.raw().get("architectures").get(0).asText());
        PolyVConfig fresh = new PolyVConfig(dense.text(), dense.vision(), null, null, null, dense.tokens());
        assertEquals(fresh, PolyVConfig.parse(fresh.toJson(), "fresh"));
        assertNotNull(PolyVConfig.parse(fresh.toJson(), "fresh").raw().get("vision_config"));
    }

    private static String tinyA() throws Exception {
        return java.nio.file.Files.readString(SharedData.golden("tiny-a").resolve("config.json"));
    }

    private static void assertRejected(String json, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> PolyVConfig.parse(json, "bad.json"));
        assertTrue(e.getMessage().startsWith("bad.json: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }

    @Test
    void rejectsInvalidConfigsNamingTheField() throws Exception {
        String a = tinyA();
        assertRejected(a.replace("\"mrope_section\": [\n      2,", "\"mrope_section\": [\n      3,"),
                "rope_scaling.mrope_section", "head_dim/2 = 8", "[3, 3, 3]");
        assertRejected(a.replace("\"layers\": [\n      0,\n      4", "\"layers\": [\n      0,\n      6"),
                "moe.layers", "num_hidden_layers=6");
        assertRejected(a.replace("\"layers\": [\n      0,\n      4", "\"layers\": [\n      4,\n      4"),
                "moe.layers", "unique");
        assertRejected(a.replace("\"top_k\": 2", "\"top_k\": 5"), "moe.top_k", "num_experts=4", "5");
        assertRejected(a.replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4"),
                "num_key_value_heads", "divisor of num_attention_heads 6", "4");
        assertRejected(a.replace("\"num_attention_heads\": 6", "\"num_attention_heads\": 7"),
                "num_attention_heads", "divisor of hidden_size 96");
        assertRejected(a.replace("\"num_heads\": 4", "\"num_heads\": 3"), "vision_config.num_heads");
        assertRejected(a.replace("\"window_size\": 112", "\"window_size\": 100"),
                "vision_config.window_size", "patch_size*spatial_merge_size = 28", "100");
        assertRejected(a.replace("\"fullatt_block_indexes\": [\n      1,", "\"fullatt_block_indexes\": [\n      4,"),
                "vision_config.fullatt_block_indexes", "depth=4");
        assertRejected(a.replace("\"hidden_size\": 96,", "\"hidden_size\": \"96\","), "hidden_size", "integer", "\"96\"");
        assertRejected(a.replace("\"vocab_size\": 2048,", ""), "vocab_size", "missing");
        PolyVConfig nulls = PolyVConfig.parse(a.replace("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": null")
                .replace("\"norm_topk_prob\": false", "\"norm_topk_prob\": null"), "nulls.json");   // null = absent: the defaults
        assertEquals(1e-6, nulls.text().rmsNormEps());
        assertFalse(nulls.moe().normTopkProb());
        assertRejected(a.replace("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": \"small\""), "rms_norm_eps", "a number", "\"small\"");
        assertRejected(a.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0"), "tie_word_embeddings", "true or false", "0");
        assertRejected(a.replace("\"hidden_act\": \"silu\",\n  \"rms", "\"hidden_act\": 1,\n  \"rms"), "hidden_act", "a string", "1");
        assertRejected(a.replace("\"out_hidden_size\": 96", "\"out_hidden_size\": 64"),
                "vision_config.out_hidden_size", "hidden_size 96");
        assertRejected(a.replace("\"image_token_id\": 2000", "\"image_token_id\": 4000"), "image_token_id", "vocab_size=2048");
        assertRejected(a.replace("\"merge_pixels\": 28", "\"merge_pixels\": 14"), "position_3d.merge_pixels", "28");
        assertRejected(a.replace("\"token_id\": 2002", "\"token_id\": 2003"), "synergy_token_id", "2002");
        assertRejected(a.replace("\"out_size\": 64", "\"out_size\": 0"), "out_size");
        assertRejected(a.replace("\"num_hidden_layers\": 6,", "\"num_hidden_layers\": 6, \"num_hidden_layers\": 7,"),
                "Duplicate field 'num_hidden_layers'");
        assertRejected("{\"hidden_size\": 96,", "not valid JSON");
        assertRejected("[1]", "expected a JSON object");
    }
}

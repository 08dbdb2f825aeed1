package ai.polyv.loader.layout;

import ai.polyv.testsupport.SharedData;
import ai.polyv.loader.config.PolyVConfig;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.loader.safetensors.Checkpoint;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class WeightLayoutTest {
    private static Path resource(String name) throws URISyntaxException {
        return Path.of(WeightLayoutTest.class.getResource("/" + name).toURI());
    }

    private static Map<String, String> byName(List<TensorSpec> specs) {
        return specs.stream().collect(Collectors.toMap(TensorSpec::name,
                s -> java.util.Arrays.toString(s.shape()), (a, b) -> a, TreeMap::new));
    }

    @Test
    void matchesTheGoldenCheckpointsExactly() {
        for (String model : List.of("tiny-a", "tiny-c")) {
            Path dir = SharedData.golden(model);
            PolyVConfig c = PolyVConfig.load(dir);
            Map<String, String> actual = new TreeMap<>();
            try (Checkpoint ck = Checkpoint.open(dir)) {
                for (String n : ck.names()) {
                    actual.put(n, java.util.Arrays.toString(ck.tensor(n).shape()));
                }
            }
            assertEquals(actual, byName(WeightLayout.expected(c)), model);
        }
    }

    @Test
    void qwen25Vl7bHasItsPublishedParameterCount() throws Exception {
        PolyVConfig c = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        List<TensorSpec> specs = WeightLayout.expected(c);
        long total = specs.stream().mapToLong(TensorSpec::numel).sum();
        // Qwen2.5-VL-7B-Instruct on the hub: 8,292,166,656 parameters (model card / safetensors index)
        assertEquals(8_292_166_656L, total);
        // 32 vision blocks * 12 + patch embed + 5 merger; embed + 28 layers * 12 + norm + lm_head
        assertEquals(32 * 12 + 1 + 5 + 1 + 28 * 12 + 1 + 1, specs.size());
        TensorSpec k = specs.stream().filter(s -> s.name().equals("model.layers.27.self_attn.k_proj.weight"))
                .findFirst().orElseThrow();
        assertArrayEquals(new long[] {512, 3584}, k.shape());   // 4 KV heads * 128
        assertEquals(TensorSpec.Role.WEIGHT, k.role());
    }

    @Test
    void polyV7bReplacesSevenDenseFfnsWithRoutersAndFourExperts() throws Exception {
        PolyVConfig dense = PolyVConfig.load(resource("qwen25vl-7b/config.json"));
        PolyVConfig moe = PolyVConfig.load(resource("polyv-7b/config.json"));
        long d = WeightLayout.expected(dense).stream().mapToLong(TensorSpec::numel).sum();
        long m = WeightLayout.expected(moe).stream().mapToLong(TensorSpec::numel).sum();
        long ffn = 3L * 3584 * 18944;
        long router = 4L * 3584;
        long synergy = moe.synergy() == null ? 0
                : WeightLayout.expected(moe).stream().filter(s -> s.name().startsWith("synergy_heads."))
                .mapToLong(TensorSpec::numel).sum();
        assertEquals(d + 7 * (3 * ffn + router) + synergy, m);
        Map<String, String> names = byName(WeightLayout.expected(moe));
        assertEquals("[4, 3584]", names.get("model.layers.24.mlp.gate.weight"));
        assertEquals("[18944, 3584]", names.get("model.layers.24.mlp.experts.3.gate_proj.weight"));
        assertEquals(null, names.get("model.layers.24.mlp.gate_proj.weight"));
        assertEquals("[18944, 3584]", names.get("model.layers.25.mlp.gate_proj.weight"));
    }
}

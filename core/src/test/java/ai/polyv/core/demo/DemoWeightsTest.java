package ai.polyv.core.demo;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.Checkpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DemoWeightsTest {

    /** The tensor list derived from a config names exactly the golden checkpoints' tensors, shapes included. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-a", "tiny-c"})
    void tensorListMatchesGoldenCheckpoints(String model) {
        Path dir = SharedData.golden(model);
        PolyVConfig c = PolyVConfig.load(dir);
        Map<String, String> expected = new TreeMap<>();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            for (String n : ck.names()) expected.put(n, java.util.Arrays.toString(ck.tensor(n).shape()));
        }
        Map<String, String> actual = DemoWeights.tensors(c).stream()
                .collect(Collectors.toMap(DemoWeights.TensorSpec::name, s -> java.util.Arrays.toString(s.shape()), (a, b) -> a, TreeMap::new));
        assertEquals(expected, actual);
    }

    @Test
    void demoConfigAndDeterministicValues() {
        PolyVConfig c = DemoWeights.config(151669, List.of(151643, 151645));
        assertEquals(151680, c.text().vocabSize());
        assertEquals(151679, c.synergy().tokenId());
        List<DemoWeights.TensorSpec> t = DemoWeights.tensors(c);
        DemoWeights.TensorSpec q = t.stream().filter(s -> s.name().equals("model.layers.0.self_attn.q_proj.weight")).findFirst().orElseThrow();
        float[] a = q.values();
        assertArrayEquals(a, q.values());
        double sum = 0, sq = 0;
        for (float v : a) {
            sum += v;
            sq += v * v;
        }
        double mean = sum / a.length, std = Math.sqrt(sq / a.length - mean * mean);
        assertEquals(0.0, mean, 1e-3);
        assertEquals(DemoWeights.STD, std, 1e-3);
        assertTrue(t.stream().anyMatch(s -> s.name().equals("model.layers.3.mlp.experts.3.down_proj.weight")));
    }
}

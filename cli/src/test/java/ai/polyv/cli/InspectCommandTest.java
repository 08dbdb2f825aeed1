package ai.polyv.cli;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class InspectCommandTest {
    @TempDir
    Path tmp;

    /** Exit status, stdout and stderr of one run. */
    record Result(int status, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new InspectCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void tinyAIsValidWithHandCountedParameters() {
        Result r = run(SharedData.golden("tiny-a").toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        // 157 tensors > 60: compact table, experts of both MoE layers in one row
        assertTrue(r.out().contains("157 tensors in 1 file"), r.out());
        assertTrue(r.out().matches("(?s).*model\\.layers\\.\\*\\.mlp\\.experts\\.\\*\\.gate_proj\\.weight +F32 +\\[160, 96] +8 .*"),
                r.out());
        // routers: 2 MoE layers * [4 experts, 96]; experts: 2 layers * 4 experts * 3 * 160 * 96
        assertTrue(r.out().matches("(?s).*moe routers +768 .*"), r.out());
        assertTrue(r.out().matches("(?s).*moe experts +368,640 .*"), r.out());
        // embeddings and lm_head: 2048 * 96
        assertTrue(r.out().matches("(?s).*embeddings +196,608 .*"), r.out());
        assertTrue(r.out().matches("(?s).*lm_head +196,608 .*"), r.out());
        assertTrue(r.out().matches("(?s).*total +1,443,504 +1\\.44M.*"), r.out());
        assertTrue(r.out().contains("6 layers, hidden 96, intermediate 160, 6 heads (head_dim 16), 2 KV heads"), r.out());
        assertTrue(r.out().contains("2 MoE layers [0, 4], 4 experts, top-2"), r.out());
        assertTrue(r.out().contains("verdict: VALID"), r.out());
    }

    @Test
    void allListsEveryTensorInNaturalOrder() {
        Result r = run("--all", SharedData.golden("tiny-a").toString());
        assertEquals(0, r.status(), r.err());
        int l2 = r.out().indexOf("model.layers.2.input_layernorm.weight");
        int l10 = r.out().indexOf("model.layers.5.input_layernorm.weight");
        assertTrue(l2 > 0 && l10 > l2, r.out());
        assertTrue(r.out().contains("model.layers.4.mlp.experts.3.down_proj.weight"), r.out());
        assertFalse(r.out().contains("layers.*"), r.out());
    }

    @Test
    void shardedBf16TinyCAsJson() throws Exception {
        Result r = run("--json", SharedData.golden("tiny-c").toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.get("valid").asBoolean());
        assertEquals(4, j.get("files").size());
        assertEquals(111, j.get("tensors").size());
        assertEquals(40135872L + 0, sumBytes(j));
        assertEquals(3, j.at("/config/num_hidden_layers").asInt());
        assertEquals(896, j.at("/config/hidden_size").asInt());
        assertEquals(2, j.at("/config/moe/top_k").asInt());
        // one MoE layer: router [4, 896], 4 experts of 3 * 512 * 896
        assertEquals(4 * 896, j.at("/parameters/moe routers").asLong());
        assertEquals(4L * 3 * 512 * 896, j.at("/parameters/moe experts").asLong());
        long total = 0;
        for (JsonNode t : j.get("tensors")) {
            assertEquals("BF16", t.get("dtype").asText());
            long n = 1;
            for (JsonNode d : t.get("shape")) {
                n *= d.asLong();
            }
            total += n;
        }
        assertEquals(total, j.at("/parameters/total").asLong());
        assertEquals(0, j.get("problems").size());
    }

    private static long sumBytes(JsonNode j) {
        long s = 0;
        for (JsonNode t : j.get("tensors")) {
            s += t.get("bytes").asLong();
        }
        return s;
    }

    @Test
    void truncatedFileExits2NamingTheProblem() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.golden("tiny-a").resolve("model.safetensors"));
        Path bad = tmp.resolve("cut.safetensors");
        Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        Result r = run(bad.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("polyv inspect: INVALID: "), r.err());
        assertTrue(r.err().contains("cut.safetensors") && r.err().contains("file truncated?"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    /** tiny-a's tensors with {@code drop} removed and {@code replace} added, plus tiny-a's config.json. */
    private Path tinyAVariant(String drop, String replaceName, TensorSource replace) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        Path src = SharedData.golden("tiny-a");
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(src)) {
            Map<String, TensorSource> tensors = new LinkedHashMap<>();
            for (String n : c.names()) {
                if (!n.equals(drop)) {
                    tensors.put(n, TensorData.of(c.tensor(n)));
                }
            }
            if (replaceName != null) {
                tensors.put(replaceName, replace);
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        }
        return dir;
    }

    @Test
    void missingTensorExits2NamingIt() throws Exception {
        Path dir = tinyAVariant("model.layers.4.mlp.experts.2.up_proj.weight", null, null);
        Result r = run(dir.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("missing tensor \"model.layers.4.mlp.experts.2.up_proj.weight\" (config.json needs shape [160, 96])"),
                r.err());
        assertTrue(r.out().contains("verdict: INVALID: 1 problem"), r.out());
    }

    @Test
    void misshapedTensorExits2NamingItAndBothShapes() throws Exception {
        String name = "model.layers.1.self_attn.k_proj.weight";
        Path dir = tinyAVariant(name, name, TensorData.fromFloats(DType.F32, new long[] {96, 96}, new float[96 * 96]));
        Result r = run("--json", dir.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("tensor \"" + name + "\": shape [96, 96], config.json needs [32, 96]"), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertFalse(j.get("valid").asBoolean());
        assertEquals(1, j.get("problems").size());
    }

    @Test
    void singleFileWithoutConfigIsCheckedAsAFileOnly() {
        // golden.safetensors holds reference activations, not model weights: no config check applies
        Result r = run(SharedData.golden("tiny-a").resolve("golden.safetensors").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("verdict: VALID (file checks; no config.json"), r.out());
    }

    @Test
    void compactGroupingAndHumanSizes() {
        assertEquals("950", ai.polyv.loader.inspect.ParameterGroup.human(950));
        assertEquals("1.44M", ai.polyv.loader.inspect.ParameterGroup.human(1_443_504));
        assertEquals("11.3B", ai.polyv.loader.inspect.ParameterGroup.human(11_300_000_000L));
        assertEquals("8.29B", ai.polyv.loader.inspect.ParameterGroup.human(8_292_166_656L));
        assertEquals("308K", ai.polyv.loader.inspect.ParameterGroup.human(307_616));
        assertTrue(InspectCommand.naturalCompare("layers.2.x", "layers.10.x") < 0);
        assertTrue(InspectCommand.naturalCompare("mlp.0.bias", "mlp.0.weight") < 0);
    }

    @Test
    void saysWhichHubNamingItFound(@org.junit.jupiter.api.io.TempDir Path tmp) {
        for (var naming : ai.polyv.loader.layout.HubNaming.values()) {
            Path dir = ai.polyv.core.model.RandomQwen25Vl.write(tmp.resolve(naming.name()), naming, 1);
            Result r = run(dir.toString());
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains("naming: " + naming.description()), r.out());
            assertTrue(r.out().matches("(?s).*family +Qwen2\\.5-VL \\(Qwen2_5_VLForConditionalGeneration\\).*"), r.out());
            assertTrue(r.out().contains("verdict: VALID"), r.out());
            // parameters are grouped by canonical name in both namings: 2 layers of 64 wide attention and FFN
            assertTrue(r.out().matches("(?s).*embeddings +20,480 .*"), r.out());
            assertTrue(r.out().matches("(?s).*decoder dense +.*"), r.out());
            assertFalse(r.out().contains("other"), r.out());
            Result j = run("--json", dir.toString());
            assertTrue(j.out().contains("\"naming\" : \"" + (naming == ai.polyv.loader.layout.HubNaming.ORIGINAL ? "original" : "transformers-5") + "\""), j.out());
        }
    }
}

package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.cli.Main;
import ai.polyv.runtime.backend.CpuBackend;
import ai.polyv.runtime.golden.GoldenVerifier;
import ai.polyv.runtime.golden.TensorCheck;
import ai.polyv.runtime.model.PolyVModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@code polyv verify} on the golden models: every inference case and every reference tensor
 * (position ids, vision intermediates, embeds, hidden states, logits, MoE routing, greedy decoding)
 * must be within the golden tolerance (relative L2 1e-4) and every id must match exactly.
 */
class GoldenVerifyTest {

    static Path golden(String model) {
        return Path.of(System.getProperty("polyv.shared", "../shared"), "golden", model);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-a", "tiny-c"})
    void everyTensorOfEveryCaseMatchesTheReference(String model) {
        Path dir = golden(model);
        try (CpuBackend be = new CpuBackend(2); PolyVModel m = PolyVModel.load(dir, be)) {
            GoldenVerifier v = new GoldenVerifier(m, dir.resolve("golden.safetensors"));
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            List<GoldenVerifier.CaseResult> results = v.run(null, new PrintStream(buf, true, StandardCharsets.UTF_8));
            String report = buf.toString(StandardCharsets.UTF_8);
            Set<String> ran = results.stream().filter(r -> r.skipped() == null).map(GoldenVerifier.CaseResult::name).collect(Collectors.toSet());
            assertEquals(Set.of("text", "image", "video", "multiview3d", "mixed"), ran, report);
            for (GoldenVerifier.CaseResult r : results) {
                if (r.skipped() != null) continue;
                for (TensorCheck c : r.checks()) assertTrue(c.passed(), c.line(r.name()) + "\n" + report);
                Set<String> names = r.checks().stream().map(TensorCheck::name).collect(Collectors.toSet());
                for (String must : List.of("position_ids", "rope_delta", "inputs_embeds", "final_hidden", "logits",
                        "greedy_ids", "greedy_step_logits", "hidden.0", "moe.0.topk_ids", "moe.0.topk_weights", "moe.0.router_logits")) {
                    assertTrue(names.contains(must), r.name() + " did not compare " + must + "\n" + report);
                }
                if (!r.name().equals("text")) {
                    assertTrue(names.contains("vision.patch_embed") && names.contains("vision.block.3"), r.name() + ": vision tensors not compared\n" + report);
                }
                TensorCheck greedy = r.checks().stream().filter(c -> c.name().equals("greedy_ids")).findFirst().orElseThrow();
                assertTrue(greedy.exact() && greedy.mismatches() == 0, greedy.line(r.name()));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-a"})
    void verifyCommandExitsZeroWhenAllPass(String model) {
        Path dir = golden(model);
        assertEquals(0, Main.run("verify", "--model", dir.toString(), "--golden", dir.resolve("golden.safetensors").toString(), "--case", "text"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"text"})
    void verifyCommandExitsOneOnAnotherModelsReference(String caseName) {
        // tiny-a's weights against tiny-c's reference numbers: same vocabulary, different values -> must fail
        assertEquals(1, Main.run("verify", "--model", golden("tiny-a").toString(),
                "--golden", golden("tiny-c").resolve("golden.safetensors").toString(), "--case", caseName));
    }
}

package ai.polyv.cuda;

import ai.polyv.core.model.PolyVModel;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.train.golden.GoldenVerifier;
import ai.polyv.train.golden.TensorCheck;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole model on the CUDA backend (F32 precision) against the golden PyTorch numbers: every
 * tensor of every inference case within the golden tolerance (relative L2 1e-4), ids and greedy
 * decoding exact. Skipped, with the reason, without a CUDA device or without the golden folder.
 */
class CudaGoldenVerifyTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-a", "tiny-c"})
    void everyTensorMatchesTheReferenceOnCuda(String model) {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> probe.skipMessage("golden verify on CUDA"));
        Path dir = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", model);
        assumeTrue(Files.exists(dir.resolve("golden.safetensors")), () -> "skipped, no golden data at " + dir);
        try (CudaBackend be = CudaBackend.open(); PolyVModel m = PolyVModel.load(dir, be)) {
            GoldenVerifier v = new GoldenVerifier(m, dir.resolve("golden.safetensors"));
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            List<GoldenVerifier.CaseResult> results = v.run(null, new PrintStream(buf, true, StandardCharsets.UTF_8));
            String report = buf.toString(StandardCharsets.UTF_8);
            Set<String> ran = results.stream().filter(r -> r.skipped() == null).map(GoldenVerifier.CaseResult::name).collect(Collectors.toSet());
            // every inference case ran (tiny-a's training case runs too: its objective reads the weights the model holds)
            assertTrue(ran.containsAll(Set.of("text", "image", "video", "multiview3d", "mixed")), ran + "\n" + report);
            for (GoldenVerifier.CaseResult r : results) {
                if (r.skipped() != null) continue;
                for (TensorCheck c : r.checks()) assertTrue(c.passed(), c.line(r.name()) + "\n" + report);
            }
        }
    }
}

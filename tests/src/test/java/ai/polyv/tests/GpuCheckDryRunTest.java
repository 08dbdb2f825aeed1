package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/gpu-check.sh in dry run (GPU_CHECK_DRY_RUN=1, no JRE, no bundle needed): it runs to the end in
 * seconds, every step reports a clean skip, the GPU test units are read from the test sources (each
 * PolyVKernelsGpuTest method a unit of its own), and what $OUT holds fits what comes back from the GPU
 * machine (at most 8 files, at most two folders deep). Keeps the script from rotting between GPU sessions.
 */
class GpuCheckDryRunTest {

    @Test
    void theDryRunSkipsEveryStepCleanlyAndFitsWhatComesBack(@TempDir Path out) throws Exception {
        Path root = PackageCyclesTest.repoRoot();
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("scripts/gpu-check.sh").toString())
                .directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("OUT", out.toString());
        pb.environment().put("GPU_CHECK_DRY_RUN", "1");
        pb.environment().put("GPU_CHECK_BUDGET_S", "60");
        pb.environment().put("GPU_CHECK_BUNDLE", out.resolve("no-bundle").toString());
        Process p = pb.start();
        byte[] console = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gpu-check.sh dry run did not finish in 60 s");
        String printed = new String(console, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "dry run exit status; output:\n" + printed);

        String summary = Files.readString(out.resolve("summary.txt"));
        List<String> lines = summary.lines().toList();
        List<String> units = lines.stream().filter(l -> l.matches("^(PASS|FAIL|SKIP|TIMEOUT) .*")).toList();
        for (String l : units) assertTrue(l.startsWith("SKIP    "), "not a clean skip in a dry run: " + l + "\n" + summary);
        assertTrue(lines.stream().noneMatch(l -> l.contains("FAIL") || l.contains("budget is spent")), summary);
        for (String step : List.of("probe", "CudaOpHarnessTest", "KernelSourcesTest", "CudaGoldenVerifyTest", "CudaBf16GoldenTest",
                "memcheck-PolyVKernelsGpuTest", "racecheck-CudaOpHarnessTest", "bench-kernels", "bench-e2e")) {
            assertTrue(units.stream().anyMatch(l -> l.startsWith("SKIP    " + step + " ")), "no line for step " + step + "\n" + summary);
        }
        assertTrue(units.stream().filter(l -> l.startsWith("SKIP    PolyVKernelsGpuTest#")).count() >= 2,
                "each PolyVKernelsGpuTest method is a unit of its own\n" + summary);
        assertTrue(summary.contains("env: ") && summary.contains("xz "), "step 0 prints the environment\n" + summary);
        assertTrue(summary.contains("gpu-check: DRY RUN"), summary);

        assertTrue(Files.isRegularFile(out.resolve("logs.tar.gz")), "logs.tar.gz");
        List<Path> files;
        try (Stream<Path> s = Files.walk(out)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.size() <= 8, "at most 8 files come back from $OUT: " + files);
        for (Path f : files) assertTrue(out.relativize(f).getNameCount() <= 3, "deeper than two folders: " + f);
        for (Path f : files) assertTrue(f.getFileName().toString().matches("[A-Za-z0-9._-]+"), "a name that does not come back: " + f);
    }

    @Test
    void theScriptParses() throws IOException, InterruptedException {
        Path script = PackageCyclesTest.repoRoot().resolve("scripts/gpu-check.sh");
        Process p = new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), msg);
    }
}

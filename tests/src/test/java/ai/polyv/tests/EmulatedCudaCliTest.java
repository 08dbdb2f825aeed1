package ai.polyv.tests;

import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.testsupport.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CLI's CUDA path on the emulated device ({@code POLYV_CUDA=emulated}, as a user without a GPU would
 * run it): {@code generate --backend cuda|cuda-bf16} gives the CPU's greedy ids on tiny-a, {@code verify
 * --backend cuda} passes the golden text case, and stderr says once, first, that CUDA is emulated. Each
 * command runs in a child JVM with only the environment variable set (no system property).
 */
class EmulatedCudaCliTest {

    private static final Path TINY_A = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a");
    private static final String EMULATED_LINE =
            "polyv: CUDA is EMULATED on the host (no GPU): kernels run as host threads with extra checks; results prove logic, never timing";

    record Run(int status, String out, String err) {}

    private static Run polyv(boolean emulated, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(List.of("--add-modules", "jdk.incubator.vector", "-Xss8m"), "ai.polyv.cli.Main", args));
        pb.environment().remove("POLYV_CUDA");
        if (emulated) pb.environment().put("POLYV_CUDA", "emulated");
        Path err = Files.createTempFile("polyv-cli", ".err");
        try {
            Process p = pb.redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(240, TimeUnit.SECONDS), "polyv " + String.join(" ", args) + " did not finish");
            return new Run(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static void requireEmulator() {
        assumeTrue(Files.exists(TINY_A.resolve("config.json")), "no golden tiny-a at " + TINY_A);
        assumeTrue(CudaProbe.probe().emulated() || CudaProbe.probe().reason().contains("emulated") == false && !CudaProbe.probe().available(),
                "a real CUDA device is used in this JVM; the emulated CLI path is checked where there is none");
        assumeTrue(EmulatedCudaCliTest.class.getClassLoader().getResource("ai/polyv/kernels/emu/libcuda.so.1") != null,
                "the emulated CUDA device is not in this build (no g++ or CUDA headers when the kernels module was built)");
    }

    @Test
    void generateOnTheEmulatedDeviceGivesTheCpuIds() throws Exception {
        requireEmulator();
        String[] common = {"generate", "--model", TINY_A.toString(), "--prompt-ids", "1988,1972,134", "--max-new-tokens", "6"};
        Run cpu = polyv(false, concat(common, "--backend", "cpu"));
        assertEquals(0, cpu.status(), cpu.err());
        for (String backend : new String[] {"cuda", "cuda-bf16"}) {
            Run gpu = polyv(true, concat(common, "--backend", backend));
            assertEquals(0, gpu.status(), gpu.err());
            List<String> errLines = gpu.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
            assertEquals(EMULATED_LINE, errLines.get(0), "first stderr line on " + backend);
            assertEquals(1, errLines.stream().filter(EMULATED_LINE::equals).count(), "said once");
            assertTrue(gpu.err().contains("(backend " + backend + ")"), gpu.err());
            if (backend.equals("cuda")) assertEquals(cpu.out(), gpu.out(), "greedy ids on the fp32 CUDA backend equal the CPU's");
            else assertTrue(gpu.out().strip().matches("\\[\\d+(, \\d+){5}]"), "six ids from the bf16 backend: " + gpu.out());
        }
    }

    @Test
    void verifyOnTheEmulatedDevicePassesTheGoldenTextCase() throws Exception {
        requireEmulator();
        Run v = polyv(true, "verify", "--model", TINY_A.toString(), "--backend", "cuda", "--case", "text");
        assertEquals(0, v.status(), v.out() + v.err());
        assertTrue(v.out().contains("19 of 19 tensors within tolerance") && v.out().contains("on backend cuda"), v.out());
        assertTrue(v.err().contains(EMULATED_LINE), v.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

package ai.polyv.cuda;

import ai.polyv.core.backend.Backend;
import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.driver.CudaUnavailableException;
import ai.polyv.testsupport.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code Backend.named("cuda")} either works or says why not, in one line that names the missing piece.
 * On a machine without the NVIDIA driver (CI, the dev machines) that is the driver library.
 */
class CudaAvailabilityTest {

    private static boolean driverInstalled() {
        return Files.exists(Path.of("/proc/driver/nvidia/version"));
    }

    /** Runs CudaProbe's main in a fresh JVM that uses the NVIDIA driver only (never the emulated device). */
    private static String probeWithoutEmulation(String... args) throws Exception {
        Process p = new ProcessBuilder(ChildJvm.command(List.of("-Dpolyv.cuda=real"), CudaProbe.class.getName(), args)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void withoutADriverCudaFailsWithAClearReason() throws Exception {
        assumeFalse(driverInstalled(), "an NVIDIA driver is installed here; the no-driver message cannot be checked");
        assertEquals("CUDA backend unavailable: no NVIDIA driver on this machine (libcuda.so.1 cannot be loaded)", probeWithoutEmulation());
    }

    @Test
    void withoutADriverTheJCudaBindingFailsWithAClearReason() throws Exception {
        assumeFalse(driverInstalled(), "an NVIDIA driver is installed here; JCuda loads");
        // libJCudaDriver links against libcuda.so.1, so on this machine its loading itself fails
        String line = probeWithoutEmulation("--init-driver");
        assertTrue(line.startsWith("CUDA backend unavailable: the JCuda native library (jcuda-natives, libJCudaDriver) could not be loaded: "), line);
    }

    @Test
    void unknownBackendNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backend.named("cuda-fp8"));
        assertEquals("unknown backend 'cuda-fp8' (expected cpu, cuda, cuda-bf16)", e.getMessage());
    }

    @Test
    void withADeviceCudaOpensAndNamesTheDevice() {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> probe.skipMessage("CUDA availability on a device"));
        try (CudaBackend be = CudaBackend.open()) {
            assertEquals("cuda", be.name());
            CudaContext.DeviceInfo d = be.context().info();
            assertTrue(d.ccMajor() >= 8 && d.totalMemory() > 0 && d.smCount() > 0, d.toString());
        }
    }

    @Test
    void aMissingDeviceOrdinalIsRejectedByName() {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> probe.skipMessage("CUDA availability on a device"));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaContext.open(999));
        assertTrue(e.getMessage().contains("CUDA device 999 does not exist"), e.getMessage());
    }
}

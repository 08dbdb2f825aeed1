package ai.polyv.cuda;

import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.driver.CudaUnavailableException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.polyv.core.backend.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code Backend.named("cuda")} either works or says why not, in one line that names the missing piece.
 * On a machine without the NVIDIA driver (CI, the dev machines) that is the driver library.
 */
class CudaAvailabilityTest {

    private static boolean driverInstalled() {
        return Files.exists(Path.of("/proc/driver/nvidia/version")) || CudaContext.unavailableReason() == null;
    }

    @Test
    void withoutADriverCudaFailsWithAClearReason() {
        assumeFalse(driverInstalled(), "an NVIDIA driver is installed here; the no-driver message cannot be checked");
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> Backend.named("cuda"));
        assertTrue(e instanceof CudaUnavailableException, e.toString());
        assertEquals("CUDA backend unavailable: no NVIDIA driver on this machine (libcuda.so.1 cannot be loaded)", e.getMessage());
        UnsupportedOperationException named = assertThrows(UnsupportedOperationException.class, () -> Backend.named("cuda"));
        assertEquals(e.getMessage(), named.getMessage());
        assertEquals(e.getMessage(), CudaContext.unavailableReason());
    }

    @Test
    void withoutADriverTheJCudaBindingFailsWithAClearReason() {
        assumeFalse(driverInstalled(), "an NVIDIA driver is installed here; JCuda loads");
        // libJCudaDriver links against libcuda.so.1, so on this machine its loading itself fails
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaContext::initDriver);
        assertTrue(e.getMessage().startsWith("CUDA backend unavailable: the JCuda native library (jcuda-natives, libJCudaDriver) could not be loaded: "),
                e.getMessage());
        assertTrue(e.getMessage().indexOf('\n') < 0, "one line: " + e.getMessage());
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

package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No main source turns JCuda's exceptions on. The flag is process-wide: with it on, cuMemAlloc's
 * CUDA_ERROR_OUT_OF_MEMORY is thrown as a jcuda.CudaException instead of being returned, which skips
 * DeviceMemoryPool's free-the-cache-and-retry; and every return-code check (CudaException.check) expects
 * codes. KernelBench did this once around its timings.
 */
class JCudaExceptionsOffTest {

    @Test
    void noMainSourceEnablesJCudaExceptions() throws IOException {
        Path root = PackageCyclesTest.repoRoot();
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path m : modules.filter(d -> Files.isDirectory(d.resolve("src/main/java"))).toList()) {
                try (Stream<Path> files = Files.walk(m.resolve("src/main/java"))) {
                    for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                        if (Files.readString(f).replaceAll("\\s+", "").contains("setExceptionsEnabled(true)")) offenders.add(root.relativize(f).toString());
                    }
                }
            }
        }
        assertEquals(List.of(), offenders, "these turn JCuda exceptions on (check return codes with CudaException.check instead)");
    }
}

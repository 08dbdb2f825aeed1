package ai.polyv.cuda.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The emulated CUDA device: a stand-in {@code libcuda.so.1} (and {@code libcublas.so.13}) built from
 * kernels/emu, in which the same kernel sources run on the host as fibers, with checks a GPU does not
 * give (shuffled thread order, poisoned shared memory, shared-memory races, out-of-bounds accesses,
 * sm_90 launch limits). The unchanged JCuda binding, {@code CudaBackend}, memory pool and launchers
 * run on it. It proves logic, never timing: benchmarks refuse to time it.
 *
 * <p>Selected by the system property {@code polyv.cuda} or else the environment variable
 * {@code POLYV_CUDA}: {@code emulated}; {@code auto} (the test suite's default) emulates only when no
 * NVIDIA driver is installed; anything else, or unset, uses the NVIDIA driver.
 */
public final class EmulatedDevice {
    private EmulatedDevice() {}

    /** Where the emulator's libraries sit in the kernels jar. */
    static final String RESOURCE_DIR = "ai/polyv/kernels/emu/";
    static final String DRIVER = "libcuda.so.1";
    static final String CUBLAS = "libcublas.so.13";

    private static Path dir;

    /** Whether this JVM uses (or will use) the emulated device. */
    public static boolean selected() {
        String mode = System.getProperty("polyv.cuda");
        if (mode == null || mode.isBlank()) mode = System.getenv("POLYV_CUDA");
        if (mode == null) return false;
        return switch (mode.trim().toLowerCase(Locale.ROOT)) {
            case "emulated", "emulate", "emu" -> true;
            case "auto" -> !nvidiaDriverInstalled();
            default -> false;
        };
    }

    static boolean nvidiaDriverInstalled() {
        return Files.exists(Path.of("/proc/driver/nvidia/version"));
    }

    /**
     * Loads the stand-in driver into this process (once), before JCuda's native library, whose
     * dependency on {@code libcuda.so.1} the dynamic linker then satisfies by its soname. Prints one
     * line to stderr saying that CUDA is emulated.
     */
    static synchronized void install() {
        if (dir != null) return;
        Path d = libraryDir();
        try {
            System.load(d.resolve(DRIVER).toString());
        } catch (UnsatisfiedLinkError e) {
            throw new CudaUnavailableException("the emulated CUDA driver " + d.resolve(DRIVER) + " could not be loaded: " + e.getMessage(), e);
        }
        dir = d;
        System.err.println("polyv: CUDA is EMULATED on the host (no GPU): kernels run as host threads with extra checks; results prove logic, never timing");
    }

    /** The stand-in cuBLAS library file ({@link #install()} must have run). */
    static Path cublasLibrary() {
        install();
        return dir.resolve(CUBLAS);
    }

    private static Path libraryDir() {
        URL url = EmulatedDevice.class.getClassLoader().getResource(RESOURCE_DIR + DRIVER);
        if (url == null) {
            throw new CudaUnavailableException("the emulated CUDA device is not in this build (" + RESOURCE_DIR + DRIVER
                    + " missing from the kernels jar: g++ or the CUDA headers were absent when it was built; see kernels/emu/build-emu.sh)");
        }
        try {
            if (url.getProtocol().equals("file")) return Path.of(url.toURI()).getParent();
            Path tmp = Files.createTempDirectory("polyv-cuda-emu");
            tmp.toFile().deleteOnExit();
            for (String f : new String[] {DRIVER, CUBLAS}) {
                try (InputStream in = EmulatedDevice.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + f)) {
                    if (in == null) throw new CudaUnavailableException("the emulated CUDA device is incomplete: " + RESOURCE_DIR + f + " missing");
                    Path p = tmp.resolve(f);
                    Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
                    p.toFile().deleteOnExit();
                }
            }
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting the emulated CUDA libraries", e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

package ai.polyv.runtime.cuda.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * Finds the compiled kernel files ({@code <name>.fatbin}, one per {@code kernels/src/main/cuda/<name>.cu})
 * and loads them as CUDA modules. Looked up, in order: the folder in system property
 * {@code polyv.cuda.dir} or environment variable {@code POLYV_CUDA_DIR}, then the classpath resources
 * {@code ai/polyv/kernels/<name>.fatbin} (where {@code kernels/build-kernels.sh} puts them in the kernels
 * jar), {@code cuda/<name>.fatbin} and {@code <name>.fatbin}.
 */
public final class KernelBinaries {
    /** The four PolyV kernel files. */
    public static final List<String> POLYV_KERNELS = List.of("moe_router", "token_permutation", "expert_ffn", "window_attention");
    static final List<String> RESOURCE_DIRS = List.of("ai/polyv/kernels/", "cuda/", "");

    private KernelBinaries() {}

    /** The bytes of {@code <name>.fatbin}; fails naming every place looked at. */
    public static byte[] read(String name) {
        String file = name + ".fatbin";
        List<String> tried = new ArrayList<>();
        String dir = System.getProperty("polyv.cuda.dir", System.getenv("POLYV_CUDA_DIR"));
        try {
            if (dir != null) {
                Path p = Path.of(dir, file);
                if (Files.isRegularFile(p)) return Files.readAllBytes(p);
                tried.add(p.toString());
            }
            for (String res : RESOURCE_DIRS) {
                try (InputStream in = KernelBinaries.class.getClassLoader().getResourceAsStream(res + file)) {
                    if (in != null) return in.readAllBytes();
                }
                tried.add("classpath:" + res + file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("kernel binary " + file + " not found (looked at " + String.join(", ", tried)
                + "); build kernels/ with nvcc or set -Dpolyv.cuda.dir");
    }

    /** Loads {@code <name>.fatbin} into the current context; the caller unloads it ({@code cuModuleUnload}). */
    public static CUmodule load(String name) {
        CUmodule m = new CUmodule();
        JCudaDriver.cuModuleLoadData(m, read(name));
        return m;
    }
}

package ai.polyv.cuda.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds CUDA libraries (cuBLAS, NVRTC) for FFM. Tries, for each soname in order: the folder in the
 * environment variable {@code POLYV_CUDA_LIB_DIR}, the dynamic linker's search path (ldconfig,
 * {@code LD_LIBRARY_PATH}), then {@code $CUDA_HOME/lib64} and the usual toolkit folders.
 */
final class NativeLibraries {
    private NativeLibraries() {}

    /** A loaded library: its lookup and the file or soname it came from. */
    record Loaded(SymbolLookup lookup, String from) {}

    static Loaded load(String what, Arena arena, String... sonames) {
        List<String> tried = new ArrayList<>();
        for (String so : sonames) {
            for (String candidate : candidates(so)) {
                try {
                    if (candidate.contains("/")) {
                        if (!Files.exists(Path.of(candidate))) continue;
                        return new Loaded(SymbolLookup.libraryLookup(Path.of(candidate), arena), candidate);
                    }
                    return new Loaded(SymbolLookup.libraryLookup(candidate, arena), candidate);
                } catch (IllegalArgumentException e) {
                    tried.add(candidate);
                }
            }
        }
        throw new CudaUnavailableException(what + " library not found (tried " + String.join(", ", tried)
                + "; set POLYV_CUDA_LIB_DIR to the folder holding " + sonames[0] + ")");
    }

    private static List<String> candidates(String so) {
        List<String> c = new ArrayList<>();
        String dir = System.getenv("POLYV_CUDA_LIB_DIR");
        if (dir != null && !dir.isBlank()) c.add(Path.of(dir, so).toString());
        c.add(so);
        String home = System.getenv("CUDA_HOME");
        if (home != null && !home.isBlank()) c.add(Path.of(home, "lib64", so).toString());
        c.add("/usr/local/cuda/lib64/" + so);
        c.add("/usr/local/cuda/targets/x86_64-linux/lib/" + so);
        c.add("/usr/lib/x86_64-linux-gnu/" + so);
        return c;
    }
}

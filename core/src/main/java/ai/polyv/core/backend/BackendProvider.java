package ai.polyv.core.backend;

import java.util.List;

/**
 * A source of backends other than the CPU, found with {@link java.util.ServiceLoader} (a module lists
 * its provider in {@code META-INF/services/ai.polyv.core.backend.BackendProvider}), so that core never
 * compiles against a GPU library and {@link Backend#named} still opens every backend by name.
 */
public interface BackendProvider {

    /** The names this provider opens, e.g. {@code cuda}, {@code cuda-bf16}. */
    List<String> names();

    /**
     * Opens the backend {@code name} (one of {@link #names()}). Throws {@link UnsupportedOperationException}
     * with the reason when it cannot run here (no driver, no device, kernels missing).
     */
    Backend open(String name);
}

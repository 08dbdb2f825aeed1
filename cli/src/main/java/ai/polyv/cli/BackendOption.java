package ai.polyv.cli;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.CpuBackend;

/** {@code --backend} and {@code --threads} to a backend. */
final class BackendOption {

    private BackendOption() {}

    /** {@code threads} 0: one worker per available processor. */
    static Backend create(String name, int threads) {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        if (threads > 0) {
            if (!name.equals("cpu")) throw new IllegalArgumentException("--threads applies to the cpu backend only, not '" + name + "'");
            return new CpuBackend(threads);
        }
        return Backend.named(name);
    }
}

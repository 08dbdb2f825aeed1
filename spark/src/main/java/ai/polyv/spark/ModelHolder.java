package ai.polyv.spark;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.CpuBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The model of an executor JVM: loaded by the first task that needs it, shared by every later task of the JVM (the
 * tasks running at once in one JVM feed the same continuous batcher), closed by a shutdown hook when the executor
 * exits. Never loaded per task.
 */
final class ModelHolder {
    private ModelHolder() {}

    private record Loaded(PolyV polyv, GenerationService service) {}

    private static final Map<String, Loaded> LOADED = new HashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static boolean hooked;

    /** The generation service of {@code o}'s model in this JVM, loading it on first use. */
    static synchronized GenerationService service(GenerateOptions o) {
        Loaded l = LOADED.get(o.modelKey());
        if (l == null) {
            Path dir = Path.of(o.model());
            Path tok = o.tokenizer() != null ? Path.of(o.tokenizer())
                    : Files.isRegularFile(dir.resolve(PolyV.TOKENIZER_FILE)) ? dir.resolve(PolyV.TOKENIZER_FILE) : null;
            Backend be = o.threads() > 0 ? new CpuBackend(o.threads()) : Backend.named(o.backend());
            PolyV polyv = PolyV.load(dir, be, tok);
            LOADS.incrementAndGet();
            l = new Loaded(polyv, new GenerationService(polyv, o.maxBatch()));
            LOADED.put(o.modelKey(), l);
            if (!hooked) {
                hooked = true;
                Runtime.getRuntime().addShutdownHook(new Thread(ModelHolder::closeAll, "polyv-model-holder-close"));
            }
        }
        return l.service();
    }

    /** Models loaded in this JVM since it started (the tests check: one per JVM, not one per task). */
    static int loads() {
        return LOADS.get();
    }

    /** Closes every model of this JVM (the shutdown hook; tests call it to start clean). */
    static synchronized void closeAll() {
        for (Loaded l : LOADED.values()) {
            try (PolyV p = l.polyv(); GenerationService s = l.service()) {
                // service first (lets submitted requests finish), then the model
            }
        }
        LOADED.clear();
    }
}

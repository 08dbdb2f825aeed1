package ai.polyv.cuda;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.BackendProvider;
import java.util.List;

/** Registers {@code cuda} (fp32) and {@code cuda-bf16} with {@link Backend#named}. */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public List<String> names() {
        return List.of("cuda", "cuda-bf16");
    }

    @Override
    public Backend open(String name) {
        return switch (name) {
            case "cuda" -> CudaBackend.open(CudaBackend.Precision.F32);
            case "cuda-bf16" -> CudaBackend.open(CudaBackend.Precision.BF16);
            default -> throw new IllegalArgumentException("not a CUDA backend: '" + name + "'");
        };
    }
}

package ai.polyv.cuda.driver;

/**
 * The CUDA backend cannot be used on this machine; the message says why (JCuda natives not loadable,
 * no NVIDIA driver, no device, no kernels and no NVRTC, cuBLAS missing). An
 * {@link UnsupportedOperationException} so that {@code Backend.named("cuda")} keeps its documented contract.
 */
public final class CudaUnavailableException extends UnsupportedOperationException {
    public CudaUnavailableException(String reason) {
        super("CUDA backend unavailable: " + reason);
    }

    public CudaUnavailableException(String reason, Throwable cause) {
        super("CUDA backend unavailable: " + reason, cause);
    }
}

package ai.polyv.cuda.driver;

/**
 * Whether the CUDA backend can run here, and if not, why: the one probe every GPU test, benchmark and
 * the device check use for their skip or error message. Probed once per JVM through
 * {@link CudaContext#unavailableReason()} (JCuda natives, libcuda, cuInit, a device of sm_80 or newer).
 */
public record CudaProbe(boolean available, String reason) {

    private static CudaProbe cached;

    /** The probe result of this JVM (computed on first call; never throws). */
    public static synchronized CudaProbe probe() {
        if (cached == null) {
            String why = CudaContext.unavailableReason();
            cached = why == null ? new CudaProbe(true, "CUDA device 0 usable") : new CudaProbe(false, why);
        }
        return cached;
    }

    /** The skip message of a GPU test: {@code "<what> skipped: <reason>"}. */
    public String skipMessage(String what) {
        return what + " skipped: " + reason;
    }
}

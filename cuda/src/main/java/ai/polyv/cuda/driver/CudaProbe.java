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

    /** Whether the probed device is the emulated one (host-built kernels): results prove logic, never timing. */
    public boolean emulated() {
        return available && EmulatedDevice.selected();
    }

    /**
     * Whether GPU tests should keep to small shapes: on the emulated device (every launch runs on the
     * host) and under compute-sanitizer ({@code -Dpolyv.gpu.small=true}, set by scripts/gpu-check.sh).
     * Real-size cases are then skipped with {@link #realSizeSkip}; a real device runs them.
     */
    public static boolean smallShapes() {
        return Boolean.getBoolean("polyv.gpu.small") || probe().emulated();
    }

    /** The skip message of a real-size GPU case under {@link #smallShapes()}. */
    public static String realSizeSkip(String what) {
        return what + " skipped: real PolyV shapes run on a real device only ("
                + (probe().emulated() ? "this is the emulated device, which would take hours" : "polyv.gpu.small is set") + ")";
    }

    /**
     * Prints this JVM's probe result as one line ({@code available: ...} or the reason), or with
     * {@code --init-driver} only loads JCuda and calls cuInit, printing {@code ok} or the reason. Used by
     * the device check's step 0 and by tests that need a JVM with another {@code polyv.cuda} mode.
     */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("--init-driver")) {
            try {
                CudaContext.initDriver();
                System.out.println("ok");
            } catch (CudaUnavailableException e) {
                System.out.println(e.getMessage());
            }
            return;
        }
        CudaProbe p = probe();
        System.out.println(p.available() ? "available: " + p.reason() + (p.emulated() ? " (emulated)" : "") : p.reason());
    }
}

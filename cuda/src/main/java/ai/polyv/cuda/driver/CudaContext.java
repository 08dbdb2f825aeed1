package ai.polyv.cuda.driver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The primary context of one CUDA device (driver API through JCuda). {@link #open} checks, in order,
 * that the NVIDIA driver library exists, that JCuda's native library loads, that {@code cuInit}
 * succeeds and that the device exists, and otherwise throws {@link CudaUnavailableException} with
 * the first thing that is missing. The context is made current on the opening thread; call
 * {@link #makeCurrent()} before driver calls from another thread.
 */
public final class CudaContext implements AutoCloseable {

    /** What the device is. {@code smCount} streaming multiprocessors, {@code totalMemory} bytes. */
    public record DeviceInfo(int ordinal, String name, int ccMajor, int ccMinor, long totalMemory, int smCount) {
        /** e.g. {@code sm_90}. */
        public String arch() {
            return "sm_" + ccMajor + ccMinor;
        }

        @Override
        public String toString() {
            return name + " (" + arch() + ", " + smCount + " SMs, " + (totalMemory >> 20) + " MiB)";
        }
    }

    private final CUdevice device;
    private final CUcontext context;
    private final DeviceInfo info;
    private boolean closed;

    private CudaContext(CUdevice device, CUcontext context, DeviceInfo info) {
        this.device = device;
        this.context = context;
        this.info = info;
    }

    /** Retains the primary context of device {@code ordinal} and makes it current. */
    public static CudaContext open(int ordinal) {
        requireDriverLibrary();
        initDriver();
        int[] count = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist (" + count[0] + " device(s) found)");
        }
        CUdevice dev = new CUdevice();
        CudaException.check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
        byte[] name = new byte[256];
        CudaException.check(JCudaDriver.cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        long[] mem = new long[1];
        CudaException.check(JCudaDriver.cuDeviceTotalMem(mem, dev), "cuDeviceTotalMem");
        DeviceInfo info = new DeviceInfo(ordinal, new String(name, 0, len, java.nio.charset.StandardCharsets.US_ASCII),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR), mem[0],
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
        if (info.ccMajor() < 8) {
            throw new CudaUnavailableException("device " + info + " is older than sm_80 (Ampere), which the polyv kernels need");
        }
        CUcontext ctx = new CUcontext();
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain");
        CudaException.check(JCudaDriver.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
        return new CudaContext(dev, ctx, info);
    }

    /**
     * Why the CUDA backend cannot run here, or null when a device answers. Never throws; cheap enough
     * for a test's assumption.
     */
    public static String unavailableReason() {
        try (CudaContext c = open(0)) {
            return null;
        } catch (CudaUnavailableException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "CUDA backend unavailable: " + e;
        }
    }

    /** Loads JCuda's driver binding and calls {@code cuInit}; each failure becomes a clear reason. */
    public static void initDriver() {
        int r;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            r = JCudaDriver.cuInit(0);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new CudaUnavailableException("the JCuda native library (jcuda-natives, libJCudaDriver) could not be loaded: "
                    + firstLine(e.getMessage()), e);
        }
        if (r == CUresult.CUDA_ERROR_NO_DEVICE) throw new CudaUnavailableException("cuInit found no CUDA device (CUDA_ERROR_NO_DEVICE)");
        if (r != CUresult.CUDA_SUCCESS) throw new CudaUnavailableException("cuInit failed: " + CUresult.stringFor(r));
    }

    /** libcuda.so.1 comes with the NVIDIA driver; without it nothing else can work. */
    private static void requireDriverLibrary() {
        if (EmulatedDevice.selected()) {
            EmulatedDevice.install();
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", a);
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException("no NVIDIA driver on this machine (libcuda.so.1 cannot be loaded)");
        }
    }

    private static int attribute(CUdevice dev, int attr) {
        int[] v = new int[1];
        CudaException.check(JCudaDriver.cuDeviceGetAttribute(v, attr, dev), "cuDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    private static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public DeviceInfo info() {
        return info;
    }

    /** Whether this is the emulated device (host-built kernels; never time it). */
    public static boolean emulated() {
        return EmulatedDevice.selected();
    }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        CudaException.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for all work of the context. */
    public void synchronize() {
        CudaException.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        long[] free = new long[1], total = new long[1];
        CudaException.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}

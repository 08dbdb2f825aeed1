package ai.polyv.cuda.driver;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The kernel modules of one context, loaded once per op: the jar's nvcc fatbin when there is one,
 * otherwise the bundled source compiled by NVRTC for the device ({@code sm_XY} cubin, falling back to
 * PTX), otherwise {@link CudaUnavailableException} saying that CUDA kernels are unavailable and why.
 */
public final class KernelLibrary implements AutoCloseable {

    /** Where a module's image came from. */
    public enum Origin { NVCC_FATBIN, NVRTC_CUBIN, NVRTC_PTX, EMULATED_HOST }

    private final CudaContext.DeviceInfo device;
    private final Map<String, CudaModule> modules = new LinkedHashMap<>();
    private final Map<String, Origin> origins = new LinkedHashMap<>();
    private Nvrtc nvrtc;                 // loaded on first need
    private String nvrtcUnavailable;     // why it could not be loaded

    public KernelLibrary(CudaContext.DeviceInfo device) {
        this.device = device;
    }

    /** The module of {@code op}, loading (or compiling) it on first use. */
    public synchronized CudaModule module(String op) {
        CudaModule m = modules.get(op);
        if (m != null) return m;
        byte[] fatbin = KernelSources.fatbin(op);
        Origin origin;
        byte[] image;
        if (fatbin != null) {
            image = fatbin;
            origin = EmulatedDevice.selected() ? Origin.EMULATED_HOST : Origin.NVCC_FATBIN;
        } else if (EmulatedDevice.selected()) {
            // the emulated driver runs the host-built kernels of this op's source; it takes any image
            image = KernelSources.source(op).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            origin = Origin.EMULATED_HOST;
        } else {
            Nvrtc rt = nvrtc();
            String arch = device.arch() + (device.ccMajor() == 9 && device.ccMinor() == 0 ? "a" : "");
            Nvrtc.Output out;
            try {
                out = KernelSources.compile(rt, op, arch, true);
                origin = Origin.NVRTC_CUBIN;
            } catch (CudaException e) {
                if (e.code() != 5) throw e;                         // NVRTC_ERROR_INVALID_OPTION: arch unknown to this NVRTC
                out = KernelSources.compile(rt, op, "sm_90", false);  // PTX the driver can JIT
                origin = Origin.NVRTC_PTX;
            }
            image = out.image();
        }
        m = new CudaModule(op, image);
        modules.put(op, m);
        origins.put(op, origin);
        return m;
    }

    /** How each loaded op was obtained. */
    public synchronized Map<String, Origin> origins() {
        return Map.copyOf(origins);
    }

    private Nvrtc nvrtc() {
        if (nvrtc != null) return nvrtc;
        if (nvrtcUnavailable == null) {
            try {
                nvrtc = Nvrtc.load();
                return nvrtc;
            } catch (CudaUnavailableException e) {
                nvrtcUnavailable = e.getMessage();
            }
        }
        throw new CudaUnavailableException("CUDA kernels are unavailable: the kernels jar has no fatbins (nvcc was absent when it was built) and "
                + nvrtcUnavailable.replace("CUDA backend unavailable: ", ""));
    }

    @Override
    public synchronized void close() {
        for (CudaModule m : modules.values()) m.close();
        modules.clear();
    }
}

package ai.polyv.cuda.driver;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * NVRTC (runtime compilation of CUDA C) through Panama FFM: {@code libnvrtc.so.13}, else
 * {@code .so.12}. Used when the kernels jar was built without nvcc: the bundled {@code .cu} sources
 * are compiled for the device's architecture at start. Needs no GPU (tests compile here).
 */
public final class Nvrtc {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String from;
    private final MethodHandle create, compile, destroy, logSize, log, cubinSize, cubin, ptxSize, ptx, errorString, version;

    private Nvrtc(NativeLibraries.Loaded lib) {
        this.from = lib.from();
        create = handle(lib, "nvrtcCreateProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compile = handle(lib, "nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        destroy = handle(lib, "nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        logSize = handle(lib, "nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        log = handle(lib, "nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubinSize = handle(lib, "nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cubin = handle(lib, "nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ptxSize = handle(lib, "nvrtcGetPTXSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        ptx = handle(lib, "nvrtcGetPTX", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        errorString = handle(lib, "nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        version = handle(lib, "nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /** Loads NVRTC or throws {@link CudaUnavailableException} saying where it looked. */
    public static Nvrtc load() {
        return new Nvrtc(NativeLibraries.load("NVRTC", Arena.global(), "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"));
    }

    private static MethodHandle handle(NativeLibraries.Loaded lib, String name, FunctionDescriptor fd) {
        MemorySegment sym = lib.lookup().find(name)
                .orElseThrow(() -> new CudaUnavailableException("NVRTC library " + lib.from() + " has no symbol " + name));
        return LINKER.downcallHandle(sym, fd);
    }

    /** Where the library was loaded from. */
    public String from() {
        return from;
    }

    /** e.g. {@code 13.0}. */
    public String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT), minor = a.allocate(JAVA_INT);
            check((int) version.invokeExact(major, minor), "nvrtcVersion", null);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Compilation output: a cubin (ELF) or PTX text (NUL-terminated), plus the compiler log. */
    public record Output(byte[] image, boolean cubin, String log) {}

    /**
     * Compiles {@code source} (named {@code name} in messages) with {@code headers} (include name ->
     * text) and {@code options} (e.g. {@code --gpu-architecture=sm_90a}). With {@code cubin} the
     * result is SASS for that real architecture, else PTX. A compile error throws
     * {@link CudaException} carrying the full log.
     */
    public Output compile(String name, String source, Map<String, String> headers, List<String> options, boolean wantCubin) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progPtr = a.allocate(ADDRESS);
            int nh = headers.size();
            MemorySegment hdrs = nh == 0 ? MemorySegment.NULL : a.allocate(ADDRESS, nh);
            MemorySegment names = nh == 0 ? MemorySegment.NULL : a.allocate(ADDRESS, nh);
            int i = 0;
            for (Map.Entry<String, String> h : headers.entrySet()) {
                names.setAtIndex(ADDRESS, i, a.allocateFrom(h.getKey()));
                hdrs.setAtIndex(ADDRESS, i, a.allocateFrom(h.getValue()));
                i++;
            }
            check((int) create.invokeExact(progPtr, a.allocateFrom(source), a.allocateFrom(name), nh, hdrs, names), "nvrtcCreateProgram", null);
            MemorySegment prog = progPtr.get(ADDRESS, 0);
            try {
                MemorySegment opts = options.isEmpty() ? MemorySegment.NULL : a.allocate(ADDRESS, options.size());
                for (int j = 0; j < options.size(); j++) opts.setAtIndex(ADDRESS, j, a.allocateFrom(options.get(j)));
                int r = (int) compile.invokeExact(prog, options.size(), opts);
                String logText = programLog(a, prog);
                check(r, "nvrtcCompileProgram(" + name + ", " + String.join(" ", options) + ")", logText);
                MemorySegment size = a.allocate(JAVA_LONG);
                check((int) (wantCubin ? cubinSize : ptxSize).invokeExact(prog, size), wantCubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize", null);
                MemorySegment out = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
                check((int) (wantCubin ? cubin : ptx).invokeExact(prog, out), wantCubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX", null);
                return new Output(out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), wantCubin, logText);
            } finally {
                progPtr.set(ADDRESS, 0, prog);
                int ignored = (int) destroy.invokeExact(progPtr);
            }
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private String programLog(Arena a, MemorySegment prog) throws Throwable {
        MemorySegment size = a.allocate(JAVA_LONG);
        check((int) logSize.invokeExact(prog, size), "nvrtcGetProgramLogSize", null);
        long n = size.get(JAVA_LONG, 0);
        if (n <= 1) return "";
        MemorySegment buf = a.allocate(n);
        check((int) log.invokeExact(prog, buf), "nvrtcGetProgramLog", null);
        return buf.getString(0).strip();
    }

    /** NVRTC's name for a result code, e.g. {@code NVRTC_ERROR_COMPILATION}. */
    public String errorName(int code) {
        try {
            MemorySegment s = (MemorySegment) errorString.invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "NVRTC error " + code : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void check(int r, String call, String logText) {
        if (r != 0) {
            String hint = r == 7 ? " (NVRTC could not load libnvrtc-builtins: put the folder of " + from + " on LD_LIBRARY_PATH)" : "";
            throw new CudaException(call + " failed: " + errorName(r) + hint + (logText == null || logText.isEmpty() ? "" : "\n" + logText), r);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error err) throw err;
        return new IllegalStateException(t);
    }
}

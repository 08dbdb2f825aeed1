package ai.polyv.cuda.driver;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuBLAS through Panama FFM ({@code libcublas.so.13}, else {@code .so.12}; JCublas cannot be used:
 * its native part is linked against libcublas.so.12 only). One handle bound to one stream; not
 * thread-safe.
 *
 * <p><b>Row-major GEMM with a column-major library.</b> Our tensors are row-major. A row-major
 * {@code X[n,k]} is, read column-major with leading dimension {@code k}, the matrix {@code X^T [k,n]}.
 * We want {@code OUT[n,m] = X[n,k] . W[m,k]^T}; column-major that is {@code OUT^T [m,n] = W . X^T}.
 * The stored {@code W[m,k]} reads column-major as {@code W^T [k,m]} (ld {@code k}), so {@code op(A) = T};
 * {@code X^T} is {@code B} as stored (ld {@code k}), {@code op(B) = N}; {@code C = OUT^T}, ld {@code m}.
 * So: {@code gemm(T, N, M=m, N=n, K=k, A=W, lda=k, B=X, ldb=k, C=OUT, ldc=m)} and no copy is made.
 */
public final class Cublas implements AutoCloseable {
    // cublasOperation_t
    static final int OP_N = 0, OP_T = 1;
    // cudaDataType (library_types.h)
    public static final int R_32F = 0, R_16F = 2, R_16BF = 14;
    // cublasComputeType_t: plain fp32 (no TF32 down-conversion)
    static final int COMPUTE_32F = 68;
    static final int GEMM_DEFAULT = -1;

    private static final Linker LINKER = Linker.nativeLinker();

    private final String from;
    private final Arena arena = Arena.ofShared();
    private final MethodHandle gemmEx, destroy, statusName;
    private final MemorySegment handle;
    private final MemorySegment one, zero;   // host scalars (pointer mode host)
    private boolean closed;

    private Cublas(NativeLibraries.Loaded lib, CudaStream stream) {
        this.from = lib.from();
        MethodHandle create = handle(lib, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle setStream = handle(lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        this.destroy = handle(lib, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.statusName = handle(lib, "cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        this.gemmEx = handle(lib, "cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        this.one = arena.allocateFrom(JAVA_FLOAT, 1f);
        this.zero = arena.allocateFrom(JAVA_FLOAT, 0f);
        try {
            MemorySegment h = arena.allocate(ADDRESS);
            check((int) create.invokeExact(h), "cublasCreate_v2");
            this.handle = h.get(ADDRESS, 0);
            check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream.handle())), "cublasSetStream_v2");
        } catch (Throwable t) {
            arena.close();
            throw rethrow(t);
        }
    }

    /** Loads cuBLAS and creates a handle on {@code stream} (the context must be current). */
    public static Cublas create(CudaStream stream) {
        return new Cublas(load(), stream);
    }

    public static NativeLibraries.Loaded load() {
        if (EmulatedDevice.selected()) return NativeLibraries.load("cuBLAS", Arena.global(), EmulatedDevice.cublasLibrary().toString());
        return NativeLibraries.load("cuBLAS", Arena.global(), "libcublas.so.13", "libcublas.so.12");
    }

    private static MethodHandle handle(NativeLibraries.Loaded lib, String name, FunctionDescriptor fd) {
        MemorySegment sym = lib.lookup().find(name)
                .orElseThrow(() -> new CudaUnavailableException("cuBLAS library " + lib.from() + " has no symbol " + name));
        return LINKER.downcallHandle(sym, fd);
    }

    public String from() {
        return from;
    }

    /**
     * {@code out[n,m] = x[n,k] . w[m,k]^T}, row-major, fp32 accumulation, {@code out} F32. {@code x} and
     * {@code w} have the cudaDataType {@code type} (both {@link #R_32F}, or both {@link #R_16BF} /
     * {@link #R_16F}); addresses are device pointers.
     */
    public void gemmRowMajor(long x, long w, int type, long out, int n, int k, int m) {
        if (n <= 0 || m <= 0) return;
        try {
            int r = (int) gemmEx.invokeExact(handle, OP_T, OP_N, m, n, k, one,
                    MemorySegment.ofAddress(w), type, k, MemorySegment.ofAddress(x), type, k,
                    zero, MemorySegment.ofAddress(out), R_32F, m, COMPUTE_32F, GEMM_DEFAULT);
            check(r, "cublasGemmEx(out[" + n + "," + m + "] = x[" + n + "," + k + "] . w^T, type " + type + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cuBLAS's name for a status, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public String statusName(int status) {
        try {
            MemorySegment s = (MemorySegment) statusName.invokeExact(status);
            return s.equals(MemorySegment.NULL) ? fallbackName(status) : s.reinterpret(128).getString(0);
        } catch (Throwable t) {
            return fallbackName(status);
        }
    }

    /** The library's {@code cublasGetStatusName} (needs no handle, no GPU). */
    static String libraryStatusName(NativeLibraries.Loaded lib, int status) {
        try {
            MemorySegment s = (MemorySegment) handle(lib, "cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT)).invokeExact(status);
            return s.reinterpret(128).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The names of cublas_api.h's cublasStatus_t, for when the library cannot be asked. */
    public static String fallbackName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "CUBLAS_STATUS_" + status;
        };
    }

    private void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " failed: " + statusName(status) + " (" + status + ")", status);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error err) throw err;
        return new IllegalStateException(t);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            check((int) destroy.invokeExact(handle), "cublasDestroy_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            arena.close();
        }
    }
}

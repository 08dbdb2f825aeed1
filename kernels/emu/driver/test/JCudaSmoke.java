// JCuda smoke test of the emulated driver: loads the stand-in libcuda.so.1 with System.load BEFORE
// JCudaDriver's native library, so that libJCudaDriver's DT_NEEDED libcuda.so.1 is satisfied by the
// already-loaded library with that soname. Then cuInit, alloc, memcpy, module load of arbitrary bytes,
// add_f32 launched through JCuda, copy back, check; and one launch through cuBLAS (Panama FFM), as
// polyv's Cublas.java calls it. Usage: java -cp jcuda.jar:jcuda-natives.jar JCudaSmoke.java OUT_DIR
import static jcuda.driver.JCudaDriver.*;

import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.*;

public class JCudaSmoke {
    static int failures = 0;

    static void check(String name, boolean ok, String detail) {
        System.out.println((ok ? "ok " : "FAIL ") + "jcuda: " + name + (ok ? "" : ": " + detail));
        if (!ok) failures++;
    }

    static void eq(String name, int got, int want) {
        check(name, got == want, "got " + got + " (" + CUresult.stringFor(got) + "), want " + want);
    }

    public static void main(String[] args) throws Throwable {
        String out = args[0];
        if (!"--no-preload".equals(args.length > 1 ? args[1] : "")) System.load(out + "/libcuda.so.1");
        // What polyv's CudaContext checks first: libcuda.so.1 by soname (satisfied by the loaded library).
        try (Arena probe = Arena.ofConfined()) {
            check("SymbolLookup.libraryLookup(\"libcuda.so.1\") finds cuInit",
                    SymbolLookup.libraryLookup("libcuda.so.1", probe).find("cuInit").isPresent(), "absent");
        }
        setExceptionsEnabled(false);
        eq("cuInit", cuInit(0), 0);
        CUdevice dev = new CUdevice();
        eq("cuDeviceGet", cuDeviceGet(dev, 0), 0);
        int[] v = new int[1];
        cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        check("compute capability major 9", v[0] == 9, "" + v[0]);
        long[] mem = new long[1];
        eq("cuDeviceTotalMem", cuDeviceTotalMem(mem, dev), 0);
        CUcontext ctx = new CUcontext();
        eq("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(ctx, dev), 0);
        eq("cuCtxSetCurrent", cuCtxSetCurrent(ctx), 0);
        int n = 1000;
        float[] a = new float[n], b = new float[n], c = new float[n];
        for (int i = 0; i < n; i++) { a[i] = i; b[i] = 2 * i; }
        DevPtr da = new DevPtr(), db = new DevPtr(), dc = new DevPtr();
        eq("cuMemAlloc", cuMemAlloc(da, n * Sizeof.FLOAT) | cuMemAlloc(db, n * Sizeof.FLOAT) | cuMemAlloc(dc, n * Sizeof.FLOAT), 0);
        eq("cuMemcpyHtoD", cuMemcpyHtoD(da, Pointer.to(a), n * Sizeof.FLOAT) | cuMemcpyHtoD(db, Pointer.to(b), n * Sizeof.FLOAT), 0);
        CUmodule module = new CUmodule();
        eq("cuModuleLoadData(any bytes)", cuModuleLoadData(module, new byte[] {1, 2, 3, 0}), 0);
        CUfunction fn = new CUfunction();
        eq("cuModuleGetFunction(add_f32)", cuModuleGetFunction(fn, module, "add_f32"), 0);
        eq("cuModuleGetFunction(missing) -> NOT_FOUND", cuModuleGetFunction(new CUfunction(), module, "missing_kernel"),
                CUresult.CUDA_ERROR_NOT_FOUND);
        Stream stream = new Stream();
        eq("cuStreamCreate", cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), 0);
        Pointer params = Pointer.to(Pointer.to(da), Pointer.to(db), Pointer.to(dc), Pointer.to(new long[] {n}));
        eq("cuLaunchKernel(add_f32)", cuLaunchKernel(fn, 4, 1, 1, 128, 1, 1, 0, stream, params, null), 0);
        eq("cuStreamSynchronize", cuStreamSynchronize(stream), 0);
        eq("cuMemcpyDtoH", cuMemcpyDtoH(Pointer.to(c), dc, n * Sizeof.FLOAT), 0);
        boolean good = true;
        for (int i = 0; i < n; i++) good &= c[i] == 3f * i;
        check("add_f32 result", good, "c[1]=" + c[1]);
        // graph through JCuda's cuGraphInstantiate (cuGraphInstantiateWithFlags)
        eq("cuStreamBeginCapture", cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), 0);
        cuLaunchKernel(fn, 4, 1, 1, 128, 1, 1, 0, stream, Pointer.to(Pointer.to(dc), Pointer.to(da), Pointer.to(dc),
                Pointer.to(new long[] {n})), null);
        CUgraph graph = new CUgraph();
        eq("cuStreamEndCapture", cuStreamEndCapture(stream, graph), 0);
        CUgraphExec exec = new CUgraphExec();
        eq("cuGraphInstantiate", cuGraphInstantiate(exec, graph, 0), 0);
        eq("cuGraphLaunch x2", cuGraphLaunch(exec, stream) | cuGraphLaunch(exec, stream), 0);
        cuMemcpyDtoH(Pointer.to(c), dc, n * Sizeof.FLOAT);
        check("graph replayed twice", c[7] == 5f * 7, "c[7]=" + c[7]);
        eq("cuGraphExecDestroy/cuGraphDestroy", cuGraphExecDestroy(exec) | cuGraphDestroy(graph), 0);
        String[] name = new String[1];
        cuGetErrorName(700, name);
        check("cuGetErrorName(700)", "CUDA_ERROR_ILLEGAL_ADDRESS".equals(name[0]), name[0]);

        // cuBLAS through Panama, as polyv's Cublas.java: libcublas.so.13 from the same folder.
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup blas = SymbolLookup.libraryLookup(java.nio.file.Path.of(out, "libcublas.so.13"), arena);
            MethodHandle create = linker.downcallHandle(blas.find("cublasCreate_v2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle setStream = linker.downcallHandle(blas.find("cublasSetStream_v2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            var A = ValueLayout.ADDRESS;
            var I = ValueLayout.JAVA_INT;
            MethodHandle gemm = linker.downcallHandle(blas.find("cublasGemmEx").orElseThrow(),
                    FunctionDescriptor.of(I, A, I, I, I, I, I, A, A, I, I, A, I, I, A, A, I, I, I, I));
            MemorySegment hp = arena.allocate(ValueLayout.ADDRESS);
            eq("cublasCreate_v2", (int) create.invokeExact(hp), 0);
            MemorySegment h = hp.get(ValueLayout.ADDRESS, 0);
            long streamAddr = stream.address();
            eq("cublasSetStream_v2", (int) setStream.invokeExact(h, MemorySegment.ofAddress(streamAddr)), 0);
            // out[2,2] = x[2,3] . w[2,3]^T with x = a[0..6), w = b[0..6) (row-major), out -> dc
            MemorySegment one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f), zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
            long pa = addr(da), pb = addr(db), pc = addr(dc);
            int r = (int) gemm.invokeExact(h, 1, 0, 2, 2, 3, one, MemorySegment.ofAddress(pb), 0, 3,
                    MemorySegment.ofAddress(pa), 0, 3, zero, MemorySegment.ofAddress(pc), 0, 2, 68, -1);
            eq("cublasGemmEx", r, 0);
            cuStreamSynchronize(stream);
            float[] o = new float[4];
            cuMemcpyDtoH(Pointer.to(o), dc, 4 * Sizeof.FLOAT);
            // x = [[0,1,2],[3,4,5]], w = [[0,2,4],[6,8,10]]: out = [[10,28],[28,100]]
            check("cublasGemmEx result", o[0] == 10 && o[1] == 28 && o[2] == 28 && o[3] == 100,
                    java.util.Arrays.toString(o));
        }
        eq("cuMemFree", cuMemFree(da) | cuMemFree(db) | cuMemFree(dc), 0);
        eq("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease(dev), 0);
        System.out.println((failures == 0 ? "PASSED" : "FAILED") + ": jcuda smoke, " + failures + " failure(s)");
        System.exit(failures == 0 ? 0 : 1);
    }

    static long addr(DevPtr p) {
        return p.address();
    }

    /** Raw handles for FFM, as polyv's CudaStream / DevicePointers expose them. */
    static final class Stream extends CUstream {
        long address() { return getNativePointer(); }
    }

    static final class DevPtr extends CUdeviceptr {
        long address() { return getNativePointer(); }
    }
}

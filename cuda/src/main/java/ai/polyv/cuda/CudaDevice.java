package ai.polyv.cuda;

import ai.polyv.core.tensor.Tensor;
import ai.polyv.cuda.driver.Cublas;
import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.CudaGraph;
import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.DeviceBuffer;
import ai.polyv.cuda.driver.DeviceMemoryPool;
import ai.polyv.cuda.driver.DevicePointers;
import ai.polyv.cuda.driver.HostStaging;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.cuda.kernels.DeviceTensor;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.Shape;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device as {@link CudaBackend} drives it: the context, one stream, the memory pool, pinned
 * staging, the kernel library and cuBLAS on that stream, the thread the context is current on, graph
 * capture, and the scratch helpers every op shares (host index arrays to the device, scratch tensors,
 * the check that a tensor is this device's memory). Opened in one order, closed in the reverse.
 */
final class CudaDevice implements AutoCloseable {

    private static final long STAGING_BYTES = 64L << 20;

    final CudaContext ctx;
    final CudaStream stream;
    final DeviceMemoryPool pool;
    final HostStaging staging;
    final KernelLibrary kernels;
    final Cublas blas;
    private Thread boundThread;

    /** Opens the stream, pool, staging, kernel library and cuBLAS on {@code ctx} (closing what opened if one fails). */
    CudaDevice(CudaContext ctx) {
        this.ctx = ctx;
        this.boundThread = Thread.currentThread();
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            this.stream = add(opened, new CudaStream());
            this.pool = add(opened, DeviceMemoryPool.forCurrentContext());
            this.staging = add(opened, new HostStaging(stream, STAGING_BYTES));
            this.kernels = add(opened, new KernelLibrary(ctx.info()));
            this.blas = add(opened, Cublas.create(stream));
        } catch (RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> opened, T t) {
        opened.add(t);
        return t;
    }

    /** Makes the context current on the calling thread when another thread drove it last. */
    void bind() {
        Thread t = Thread.currentThread();
        if (t != boundThread) {
            ctx.makeCurrent();
            boundThread = t;
        }
    }

    /** Waits until every queued operation has finished. */
    void synchronize() {
        bind();
        stream.synchronize();
        staging.streamIdle();
    }

    /**
     * Captures the ops {@code work} runs on this backend as a {@link CudaGraph} (nothing runs now;
     * {@link #launch(CudaGraph)} replays them). Only ops that touch nothing but existing device tensors
     * can be captured: matmul in F32, rmsNorm, siluMul, gelu, add, fill, copy, rope, attentionCausal. An op
     * that would allocate device memory or copy host data (index arrays, routing, downloads, bf16
     * casts) fails with IllegalStateException naming the reason, and the capture is discarded.
     */
    CudaGraph capture(Runnable work) {
        bind();
        stream.synchronize();
        staging.streamIdle();
        String why = "not possible inside a CUDA graph capture: this op allocates device memory or copies host data "
                + "(capture only ops on existing device tensors)";
        pool.captureGuard(why);
        staging.captureGuard = why;
        try {
            return CudaGraph.capture(stream, work);
        } finally {
            pool.captureGuard(null);
            staging.captureGuard = null;
        }
    }

    /** Replays a captured graph on this backend's stream. */
    void launch(CudaGraph graph) {
        bind();
        graph.launch(stream);
    }

    void memsetD32(long address, int bits, long count) {
        CudaException.check(JCudaDriver.cuMemsetD32Async(DevicePointers.of(address), bits, count, stream.cu()), "cuMemsetD32Async");
    }

    /** A scratch device copy of host ints (a pool block, freed with {@code scope}). */
    long deviceInts(int[] values, List<DeviceBuffer> scope) {
        DeviceBuffer b = pool.allocate(4L * values.length);
        scope.add(b);
        if (values.length > 0) staging.upload(MemorySegment.ofArray(values), 0, b.address(), 4L * values.length);
        return b.address();
    }

    long deviceFloats(float[] values, List<DeviceBuffer> scope) {
        DeviceBuffer b = pool.allocate(4L * values.length);
        scope.add(b);
        if (values.length > 0) staging.upload(MemorySegment.ofArray(values), 0, b.address(), 4L * values.length);
        return b.address();
    }

    /** A scratch device tensor from the pool, freed with {@code scope}. */
    DeviceTensor scratch(List<DeviceBuffer> scope, String name, DType type, long... shape) {
        DeviceBuffer b = pool.allocate(Math.max(4, Shape.numel(shape) * type.byteSize()));
        scope.add(b);
        return DeviceTensor.at(name, b.address(), type, shape);
    }

    /** Gives a scope's blocks back to the pool. */
    static void release(List<DeviceBuffer> scope) {
        for (DeviceBuffer b : scope) b.close();   // stream order makes the reuse safe
        scope.clear();
    }

    /** Rejects tensors that are not device memory of this backend (a host tensor would crash the driver). */
    void requireDevice(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t == null || t.numel() == 0) continue;
            long a = t.data().address(), bytes = t.data().byteSize();
            if (!pool.contains(a, bytes)) {
                throw new IllegalArgumentException(op + ": tensor " + t + " is not device memory of this CUDA backend "
                        + "(make it with this backend's workspace() or weight())");
            }
        }
    }

    /** Whether two tensors share bytes. */
    static boolean overlap(Tensor a, Tensor b) {
        long a0 = a.data().address(), a1 = a0 + a.data().byteSize(), b0 = b.data().address(), b1 = b0 + b.data().byteSize();
        return a.numel() > 0 && b.numel() > 0 && a0 < b1 && b0 < a1;
    }

    @Override
    public void close() {
        bind();
        RuntimeException first = null;
        for (AutoCloseable c : new AutoCloseable[] {stream::synchronize, blas, kernels, staging, pool, stream, ctx}) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}

package ai.polyv.cuda.driver;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA stream. Work on one stream runs in issue order, which is what lets the memory pool hand a
 * just-released block to the next allocation without waiting: its next use is queued behind the last.
 */
public final class CudaStream implements AutoCloseable {
    /** Exposes the handle for libraries called through FFM (cuBLAS takes a {@code cudaStream_t}). */
    private static final class Handle extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    private final Handle stream = new Handle();
    private boolean closed;

    /** A non-blocking stream (it does not wait on the legacy default stream). */
    public CudaStream() {
        CudaException.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    }

    /** The JCuda handle, for launches and async copies. */
    public CUstream cu() {
        return stream;
    }

    /** The raw {@code CUstream} / {@code cudaStream_t} value. */
    public long handle() {
        return stream.address();
    }

    /** Blocks until everything queued so far has finished. */
    public void synchronize() {
        CudaException.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
    }
}

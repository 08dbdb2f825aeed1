package ai.polyv.cuda.driver;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/** A CUDA event for timing kernels on a stream: record two, synchronize, read the milliseconds between. */
public final class CudaEvent implements AutoCloseable {
    private final CUevent event = new CUevent();
    private boolean closed;

    public CudaEvent() {
        CudaException.check(JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
    }

    public void record(CudaStream stream) {
        CudaException.check(JCudaDriver.cuEventRecord(event, stream.cu()), "cuEventRecord");
    }

    public void synchronize() {
        CudaException.check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
    }

    /** Milliseconds from {@code start} to {@code end} (both recorded; {@code end} is waited for). */
    public static float elapsedMillis(CudaEvent start, CudaEvent end) {
        end.synchronize();
        float[] ms = new float[1];
        CudaException.check(JCudaDriver.cuEventElapsedTime(ms, start.event, end.event), "cuEventElapsedTime");
        return ms[0];
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuEventDestroy(event), "cuEventDestroy");
    }
}

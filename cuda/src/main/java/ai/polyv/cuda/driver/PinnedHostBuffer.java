package ai.polyv.cuda.driver;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory ({@code cuMemAllocHost}): the source and target of asynchronous copies.
 * {@link #segment()} is the same memory for Java code.
 */
public final class PinnedHostBuffer implements AutoCloseable {
    private final Pointer pointer = new Pointer();
    private final MemorySegment segment;
    private boolean closed;

    public PinnedHostBuffer(long bytes) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) throw new IllegalArgumentException("pinned buffer size " + bytes + " not in [1, 2^31)");
        CudaException.check(JCudaDriver.cuMemAllocHost(pointer, bytes), "cuMemAllocHost(" + bytes + " bytes)");
        this.segment = MemorySegment.ofBuffer(pointer.getByteBuffer(0, bytes));
    }

    public MemorySegment segment() {
        return segment;
    }

    /** A JCuda pointer {@code offset} bytes into the buffer. */
    public Pointer pointer(long offset) {
        return pointer.withByteOffset(offset);
    }

    public long bytes() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }
}

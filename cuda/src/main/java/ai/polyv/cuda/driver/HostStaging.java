package ai.polyv.cuda.driver;

import java.lang.foreign.MemorySegment;
import jcuda.driver.JCudaDriver;

/**
 * Pinned staging for host-device copies on one stream, bump-allocated: each upload takes the next
 * free slice, so small uploads (index arrays, rope tables) need no stream synchronisation; the
 * offset resets at the synchronisation points the backend has anyway (downloads). When the buffer is
 * full, it synchronises the stream and starts over; a copy larger than the buffer is done in chunks.
 */
public final class HostStaging implements AutoCloseable {
    private final CudaStream stream;
    private final PinnedHostBuffer buffer;
    private long offset;

    public HostStaging(CudaStream stream, long bytes) {
        this.stream = stream;
        this.buffer = new PinnedHostBuffer(bytes);
    }

    /** Host {@code src[srcOffset, srcOffset+bytes)} to device {@code dst}, queued on the stream. */
    public void upload(MemorySegment src, long srcOffset, long dst, long bytes) {
        long done = 0;
        while (done < bytes) {
            long chunk = Math.min(bytes - done, buffer.bytes());
            long at = take(chunk);
            MemorySegment.copy(src, srcOffset + done, buffer.segment(), at, chunk);
            CudaException.check(JCudaDriver.cuMemcpyHtoDAsync(DevicePointers.of(dst + done), buffer.pointer(at), chunk, stream.cu()),
                    "cuMemcpyHtoDAsync(" + chunk + " bytes)");
            done += chunk;
        }
    }

    /** Device {@code src} to host {@code dst[dstOffset, dstOffset+bytes)}; waits for the stream. */
    public void download(long src, MemorySegment dst, long dstOffset, long bytes) {
        long done = 0;
        while (done < bytes) {
            long chunk = Math.min(bytes - done, buffer.bytes());
            long at = take(chunk);
            CudaException.check(JCudaDriver.cuMemcpyDtoHAsync(buffer.pointer(at), DevicePointers.of(src + done), chunk, stream.cu()),
                    "cuMemcpyDtoHAsync(" + chunk + " bytes)");
            stream.synchronize();
            MemorySegment.copy(buffer.segment(), at, dst, dstOffset + done, chunk);
            done += chunk;
        }
        offset = 0;   // the stream is idle: every staged slice has been consumed
    }

    /** The caller synchronised the stream: every staged slice is free again. */
    public void streamIdle() {
        offset = 0;
    }

    /** Set while a CUDA graph is being captured: a host copy then fails with this message. */
    public String captureGuard;

    private long take(long bytes) {
        if (captureGuard != null) throw new IllegalStateException(captureGuard);
        long aligned = (offset + 255) & ~255L;
        if (aligned + bytes > buffer.bytes()) {
            stream.synchronize();
            aligned = 0;
        }
        offset = aligned + bytes;
        return aligned;
    }

    @Override
    public void close() {
        buffer.close();
    }
}

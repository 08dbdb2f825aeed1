package ai.polyv.cuda.driver;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Device memory with size-class free lists, so that once a decode step has run the next one makes no
 * {@code cuMemAlloc} call: every workspace tensor comes from a cached block.
 *
 * <p>Size classes: 256 bytes minimum, then four classes per power of two ({@code 1, 1.25, 1.5, 1.75}
 * times {@code 2^p}), so a block wastes at most 25%. A released block goes back to its class's free
 * list immediately; that is safe because all work runs on one stream (a later user of the block is
 * queued after the last kernel that used it). When the device runs out of memory the cached blocks are
 * freed and the allocation retried once. Dedicated blocks (weights) bypass the cache. The pool also
 * answers whether an address range lies inside one of its live blocks ({@link #contains}), which the
 * backend uses to reject host tensors with a clear message.
 */
public final class DeviceMemoryPool implements AutoCloseable {

    /** The raw allocator (cuMemAlloc / cuMemFree; a fake in tests). */
    public interface Allocator {
        /** Device address of a new block, or 0 when out of memory. */
        long allocate(long bytes);

        void free(long address);
    }

    /** Counters: raw allocations made, pooled requests served from the cache, bytes held. */
    public record Stats(long deviceAllocations, long cacheHits, long bytesReserved, long bytesInUse, long bytesCached) {}

    public static final long MIN_BLOCK = 256;

    private final Allocator allocator;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();   // size class -> free block addresses
    private final TreeMap<Long, Long> live = new TreeMap<>();          // address -> block bytes, blocks handed out
    private long deviceAllocations, cacheHits, bytesReserved, bytesInUse, bytesCached;
    private boolean closed;

    public DeviceMemoryPool(Allocator allocator) {
        this.allocator = allocator;
    }

    /** A pool over the current context's {@code cuMemAlloc}. */
    public static DeviceMemoryPool forCurrentContext() {
        return new DeviceMemoryPool(new Allocator() {
            @Override
            public long allocate(long bytes) {
                DevicePointers.Allocated p = new DevicePointers.Allocated();
                int r = JCudaDriver.cuMemAlloc(p, bytes);
                if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) return 0;
                CudaException.check(r, "cuMemAlloc(" + bytes + " bytes)");
                return p.address();
            }

            @Override
            public void free(long address) {
                CudaException.check(JCudaDriver.cuMemFree(DevicePointers.of(address)), "cuMemFree");
            }
        });
    }

    /** The block size serving a request of {@code bytes}. */
    public static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) return MIN_BLOCK;
        int p = 63 - Long.numberOfLeadingZeros(bytes - 1);   // 2^p < bytes <= 2^(p+1)
        long step = (1L << p) >> 2;
        return (bytes + step - 1) / step * step;
    }

    /** Set while a CUDA graph is being captured: then allocating fails with this message. */
    private String captureGuard;

    /** Forbids allocation (with {@code reason}) while a CUDA graph is captured, or allows it again (null). */
    public synchronized void captureGuard(String reason) {
        this.captureGuard = reason;
    }

    private void requireNotCapturing() {
        if (captureGuard != null) throw new IllegalStateException(captureGuard);
    }

    /** A pooled block of at least {@code bytes} (a zero-byte request gets a minimum block). */
    public synchronized DeviceBuffer allocate(long bytes) {
        requireOpen();
        requireNotCapturing();
        if (bytes < 0) throw new IllegalArgumentException("negative allocation " + bytes);
        long cls = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(cls);
        long addr;
        if (list != null && !list.isEmpty()) {
            addr = list.pop();
            bytesCached -= cls;
            cacheHits++;
        } else {
            addr = raw(cls);
        }
        live.put(addr, cls);
        bytesInUse += cls;
        return new DeviceBuffer(this, addr, bytes, cls, false);
    }

    /** A block of exactly {@code bytes} that is freed (not cached) when closed: weights. */
    public synchronized DeviceBuffer allocateDedicated(long bytes) {
        requireOpen();
        requireNotCapturing();
        long size = Math.max(bytes, MIN_BLOCK);
        long addr = raw(size);
        live.put(addr, size);
        bytesInUse += size;
        return new DeviceBuffer(this, addr, bytes, size, true);
    }

    private long raw(long bytes) {
        long addr = allocator.allocate(bytes);
        if (addr == 0) {
            trim();
            addr = allocator.allocate(bytes);
            if (addr == 0) {
                throw new CudaException("out of device memory allocating " + bytes + " bytes (" + bytesInUse + " bytes in use, "
                        + bytesReserved + " reserved by the pool)", CUresult.CUDA_ERROR_OUT_OF_MEMORY);
            }
        }
        deviceAllocations++;
        bytesReserved += bytes;
        return addr;
    }

    synchronized void release(DeviceBuffer b) {
        Long size = live.remove(b.address());
        if (size == null) throw new IllegalStateException("device buffer at 0x" + Long.toHexString(b.address()) + " is not live in this pool");
        bytesInUse -= size;
        if (closed || b.dedicated()) {
            allocator.free(b.address());
            bytesReserved -= size;
        } else {
            free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(b.address());
            bytesCached += size;
        }
    }

    /** Whether {@code [address, address + bytes)} lies inside one live block. */
    public synchronized boolean contains(long address, long bytes) {
        Map.Entry<Long, Long> e = live.floorEntry(address);
        return e != null && address + bytes <= e.getKey() + e.getValue();
    }

    /** Frees every cached (not live) block. */
    public synchronized void trim() {
        for (ArrayDeque<Long> list : free.values()) {
            for (long a : list) allocator.free(a);
        }
        bytesReserved -= bytesCached;
        bytesCached = 0;
        free.clear();
    }

    public synchronized Stats stats() {
        return new Stats(deviceAllocations, cacheHits, bytesReserved, bytesInUse, bytesCached);
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("device memory pool is closed");
    }

    /** Frees the cache and every block still live (their buffers must not be used afterwards). */
    @Override
    public synchronized void close() {
        if (closed) return;
        trim();
        for (Map.Entry<Long, Long> e : live.entrySet()) {
            allocator.free(e.getKey());
            bytesReserved -= e.getValue();
        }
        live.clear();
        bytesInUse = 0;
        closed = true;
    }
}

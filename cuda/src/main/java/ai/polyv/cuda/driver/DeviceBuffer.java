package ai.polyv.cuda.driver;

/**
 * A block of device memory from a {@link DeviceMemoryPool}: {@code bytes} usable bytes at
 * {@code address}. Closing it gives it back to the pool (pooled blocks are cached for reuse,
 * dedicated ones are freed). Closing twice is an error: it would hand one block out twice.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final DeviceMemoryPool pool;
    private final long address;
    private final long bytes;
    private final long blockBytes; // size class (pooled) or exact size (dedicated)
    private final boolean dedicated;
    private boolean closed;

    DeviceBuffer(DeviceMemoryPool pool, long address, long bytes, long blockBytes, boolean dedicated) {
        this.pool = pool;
        this.address = address;
        this.bytes = bytes;
        this.blockBytes = blockBytes;
        this.dedicated = dedicated;
    }

    public long address() {
        return address;
    }

    /** Bytes asked for (the block may be larger). */
    public long bytes() {
        return bytes;
    }

    long blockBytes() {
        return blockBytes;
    }

    boolean dedicated() {
        return dedicated;
    }

    @Override
    public void close() {
        if (closed) throw new IllegalStateException("device buffer at 0x" + Long.toHexString(address) + " closed twice");
        closed = true;
        pool.release(this);
    }
}

package ai.polyv.core.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of worker threads for data-parallel loops. {@link #parallelFor} splits {@code [0, count)}
 * into chunks that the workers and the calling thread take from a shared counter, then waits for all of
 * them. No thread is created per call. One loop runs at a time (concurrent callers queue on a lock); a
 * {@code parallelFor} called from inside a task runs inline on that thread.
 *
 * <p>Workers spin briefly after a loop before they park, so back-to-back calls (one GEMV per layer)
 * do not pay a park/unpark round trip each time.
 */
public final class CpuThreads implements AutoCloseable {

    /** Body of a parallel loop over the index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final long SPIN_NANOS = 50_000;

    private final int size;
    private final Thread[] workers;          // size - 1 threads; the caller is the last participant
    private final Object submitLock = new Object();
    private final ThreadLocal<Boolean> inside = ThreadLocal.withInitial(() -> false);

    private volatile Job current;            // the loop in progress (or the last one)
    private volatile boolean closed;

    /** One parallel loop; its counters are private to it, so a late worker cannot touch the next loop. */
    private static final class Job {
        final RangeTask task;
        final int count;
        final int chunk;
        final int chunks;
        final Thread waiter;
        final AtomicInteger nextChunk = new AtomicInteger();
        final AtomicInteger pending;
        volatile Throwable failure;

        Job(RangeTask task, int count, int chunk, Thread waiter) {
            this.task = task;
            this.count = count;
            this.chunk = chunk;
            this.chunks = (count + chunk - 1) / chunk;
            this.waiter = waiter;
            this.pending = new AtomicInteger(chunks);
        }

        void runChunks() {
            int c;
            while ((c = nextChunk.getAndIncrement()) < chunks) {
                int from = c * chunk;
                int to = Math.min(count, from + chunk);
                try {
                    task.run(from, to);
                } catch (Throwable e) {
                    failure = e;
                }
                if (pending.decrementAndGet() == 0) LockSupport.unpark(waiter);
            }
        }
    }

    /** A pool of {@code threads} participants (the caller counts as one, so {@code threads - 1} workers). */
    public CpuThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("CpuThreads: threads must be >= 1, got " + threads);
        this.size = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, "polyv-cpu-" + i);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** A pool with one participant per available processor. */
    public static CpuThreads ofAvailableProcessors() {
        return new CpuThreads(Runtime.getRuntime().availableProcessors());
    }

    /** Number of participants (workers + caller). */
    public int size() {
        return size;
    }

    /**
     * Runs {@code task} over {@code [0, count)} split into contiguous chunks, on the pool and the calling
     * thread, and returns when all chunks are done. An exception thrown by a chunk is rethrown here
     * (after all chunks finished).
     */
    public void parallelFor(int count, RangeTask task) {
        if (count < 0) throw new IllegalArgumentException("parallelFor: count must be >= 0, got " + count);
        if (count == 0) return;
        if (closed) throw new IllegalStateException("CpuThreads is closed");
        if (size == 1 || count == 1 || inside.get()) {
            task.run(0, count);
            return;
        }
        synchronized (submitLock) {
            // a few chunks per participant for load balance (other processes share the cores)
            int nChunks = Math.min(count, size * 4);
            Job job = new Job(task, count, (count + nChunks - 1) / nChunks, Thread.currentThread());
            current = job;                                  // publish
            for (Thread w : workers) LockSupport.unpark(w);
            inside.set(true);
            try {
                job.runChunks();
            } finally {
                inside.set(false);
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (job.pending.get() > 0) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
            Throwable f = job.failure;
            if (f != null) {
                if (f instanceof RuntimeException re) throw re;
                if (f instanceof Error e) throw e;
                throw new RuntimeException(f);
            }
        }
    }

    private void workerLoop() {
        inside.set(true);
        Job seen = null;
        while (!closed) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            Job job;
            while ((job = current) == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = job;
            job.runChunks();
        }
    }

    /**
     * Fails with a clear message when a segment cannot be read by the pool's workers (a confined arena's
     * segment): multi-threaded kernels need heap, global, auto or shared-arena segments.
     */
    void checkShared(String op, String name, MemorySegment seg) {
        if (seg != null && workers.length > 0 && !seg.isAccessibleBy(workers[0])) {
            throw new IllegalArgumentException(op + ": segment " + name + " is confined to one thread; the CpuThreads "
                    + "workers cannot read it (allocate it from Arena.ofShared(), Arena.ofAuto() or Arena.global())");
        }
    }

    /** Stops the workers (they are daemons, so an unclosed pool does not keep the JVM alive). */
    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
        for (Thread w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}

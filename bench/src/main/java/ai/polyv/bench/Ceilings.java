package ai.polyv.bench;

import ai.polyv.core.cpu.CpuThreads;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's ceilings, measured in the same process as the benchmarks they judge: peak float32 FMA
 * throughput (a Vector API loop of independent FMA chains held in registers, one thread and all threads) and
 * memory bandwidth (STREAM-style copy and a read-only sum over arrays larger than the last-level cache, all
 * threads). Best of several repetitions, as STREAM reports.
 *
 * @param threads          participants used for the all-thread numbers
 * @param vectorBits       width of {@code FloatVector.SPECIES_PREFERRED} (512 on AVX-512, 256 on AVX2)
 * @param fmaGflopsOne     float32 GFLOP/s of one thread (an FMA counts 2 FLOPs)
 * @param fmaGflopsAll     float32 GFLOP/s of all threads
 * @param copyGBs          copy bandwidth, GB/s (1e9 bytes), counting read + write bytes (STREAM convention)
 * @param readGBs          read-only bandwidth, GB/s (a vector sum over one array)
 * @param arrayBytes       size of each array of the bandwidth tests
 */
public record Ceilings(int threads, int vectorBits, double fmaGflopsOne, double fmaGflopsAll, double copyGBs,
                       double readGBs, long arrayBytes) {

    /** Default array size of the bandwidth tests: 256 MiB per array (source and destination: 512 MiB). */
    public static final long DEFAULT_ARRAY_BYTES = 256L << 20;

    public Ceilings {
        if (threads < 1) throw new IllegalArgumentException("ceilings: threads must be >= 1, got " + threads);
        if (!(fmaGflopsOne > 0) || !(fmaGflopsAll > 0) || !(copyGBs > 0) || !(readGBs > 0)) {
            throw new IllegalArgumentException("ceilings must be positive: fma " + fmaGflopsOne + "/" + fmaGflopsAll
                    + " GFLOP/s, copy " + copyGBs + " GB/s, read " + readGBs + " GB/s");
        }
    }

    /** Seconds needed to move {@code bytes} at the copy bandwidth (the memory floor). */
    public double memoryFloorSeconds(double bytes) {
        return bytes / (copyGBs * 1e9);
    }

    /** Seconds needed for {@code flops} at the all-thread FMA peak (the compute floor). */
    public double computeFloorSeconds(double flops) {
        return flops / (fmaGflopsAll * 1e9);
    }

    /** The ceiling an op of this kind is judged against: GB/s for memory-bound, GFLOP/s for compute-bound. */
    public double ceilingOf(Bound bound) {
        return bound == Bound.MEMORY ? copyGBs : fmaGflopsAll;
    }

    /** One line for tables and logs. */
    public String describe() {
        return String.format("ceilings (%d threads, %d-bit vectors): FMA %.1f GFLOP/s (1 thread %.1f), copy %.1f GB/s, read %.1f GB/s (%d MiB arrays)",
                threads, vectorBits, fmaGflopsAll, fmaGflopsOne, copyGBs, readGBs, arrayBytes >> 20);
    }

    /**
     * Measures the ceilings with the pool's threads. {@code quick} uses fewer repetitions and 64 MiB
     * arrays (bandwidth then partly reflects the last-level cache; quick numbers are for smoke runs).
     */
    public static Ceilings measure(CpuThreads pool, boolean quick) {
        return measure(pool, quick ? 64L << 20 : DEFAULT_ARRAY_BYTES, quick ? 3 : 7);
    }

    public static Ceilings measure(CpuThreads pool, long arrayBytes, int reps) {
        if (arrayBytes < (1 << 20) || arrayBytes % 64 != 0) {
            throw new IllegalArgumentException("ceilings: arrayBytes must be >= 1 MiB and a multiple of 64, got " + arrayBytes);
        }
        double one = fmaGflops(null, reps);
        double all = fmaGflops(pool, reps);
        double copy, read;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = arena.allocate(arrayBytes, 64), b = arena.allocate(arrayBytes, 64);
            // touch every page (and give the read test non-trivial values)
            pool.parallelFor(CHUNKS, (from, to) -> {
                for (int c = from; c < to; c++) {
                    long lo = chunkStart(arrayBytes, c), hi = chunkStart(arrayBytes, c + 1);
                    for (long o = lo; o < hi; o += 4) a.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, o, (o & 1023) * 1e-3f);
                    b.asSlice(lo, hi - lo).fill((byte) 0);
                }
            });
            copy = best(reps, () -> copy(pool, a, b)) * 2.0 * arrayBytes / 1e9;
            read = best(reps, () -> read(pool, a)) * arrayBytes / 1e9;
        }
        return new Ceilings(pool.size(), FS.vectorBitSize(), one, all, copy, read, arrayBytes);
    }

    // ---------------------------------------------------------------- FMA peak

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Independent FMA chains: more than latency x ports (4 x 2 on recent x86) so the FMA units stay full. */
    private static final int CHAINS = 12;
    private static final int INNER = 1 << 12;
    private static volatile float sink;

    /** GFLOP/s of {@code pool}'s threads (or the calling thread alone when {@code pool} is null). */
    private static double fmaGflops(CpuThreads pool, int reps) {
        int participants = pool == null ? 1 : pool.size();
        int units = participants * 8;                     // several work units per thread for balance
        long outerPerUnit = 2_000;                        // ~ 2000 * 4096 * 12 FMAs per unit
        fmaChains(1_000, 0.5f);                           // JIT warm-up of the loop
        fmaChains(1_000, 0.25f);
        double perSecond = best(reps, () -> {
            if (pool == null) {
                for (int u = 0; u < units; u++) sink += fmaChains(outerPerUnit, u);
            } else {
                pool.parallelFor(units, (from, to) -> {
                    float s = 0;
                    for (int u = from; u < to; u++) s += fmaChains(outerPerUnit, u);
                    sink += s;
                });
            }
        });
        double flops = (double) units * outerPerUnit * INNER * CHAINS * FS.length() * 2;
        return perSecond * flops / 1e9;
    }

    /** {@code outer * INNER} iterations of {@link #CHAINS} dependent FMA chains; returns their sum. */
    static float fmaChains(long outer, float seed) {
        FloatVector m = FloatVector.broadcast(FS, 0.9999999f), c = FloatVector.broadcast(FS, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(FS, seed), a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f),
                a4 = a0.add(4f), a5 = a0.add(5f), a6 = a0.add(6f), a7 = a0.add(7f), a8 = a0.add(8f),
                a9 = a0.add(9f), a10 = a0.add(10f), a11 = a0.add(11f);
        for (long o = 0; o < outer; o++) {
            for (int i = 0; i < INNER; i++) {
                a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
                a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
                a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
            }
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    // ---------------------------------------------------------------- bandwidth

    private static final int CHUNKS = 64;

    /** Start byte of chunk {@code c} of {@link #CHUNKS} 64-byte-aligned chunks ({@code c == CHUNKS}: the end). */
    static long chunkStart(long bytes, int c) {
        long size = (bytes / CHUNKS + 63) / 64 * 64;
        return Math.min(bytes, size * c);
    }

    private static void copy(CpuThreads pool, MemorySegment src, MemorySegment dst) {
        long n = src.byteSize();
        pool.parallelFor(CHUNKS, (from, to) -> {
            for (int c = from; c < to; c++) {
                long lo = chunkStart(n, c), hi = chunkStart(n, c + 1);
                MemorySegment.copy(src, lo, dst, lo, hi - lo);
            }
        });
    }

    private static void read(CpuThreads pool, MemorySegment a) {
        long n = a.byteSize();
        pool.parallelFor(CHUNKS, (from, to) -> {
            FloatVector s0 = FloatVector.zero(FS), s1 = s0, s2 = s0, s3 = s0;
            long step = FS.vectorByteSize();
            for (int c = from; c < to; c++) {
                long lo = chunkStart(n, c), hi = chunkStart(n, c + 1);
                long o = lo;
                for (; o + 4 * step <= hi; o += 4 * step) {
                    s0 = s0.add(FloatVector.fromMemorySegment(FS, a, o, ByteOrder.LITTLE_ENDIAN));
                    s1 = s1.add(FloatVector.fromMemorySegment(FS, a, o + step, ByteOrder.LITTLE_ENDIAN));
                    s2 = s2.add(FloatVector.fromMemorySegment(FS, a, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
                    s3 = s3.add(FloatVector.fromMemorySegment(FS, a, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
                }
                for (; o + step <= hi; o += step) s0 = s0.add(FloatVector.fromMemorySegment(FS, a, o, ByteOrder.LITTLE_ENDIAN));
            }
            sink += s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
        });
    }

    /** Runs {@code body} {@code reps} times (after one untimed run) and returns the best rate in runs/second. */
    private static double best(int reps, Runnable body) {
        body.run();
        long bestNs = Long.MAX_VALUE;
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            body.run();
            bestNs = Math.min(bestNs, System.nanoTime() - t0);
        }
        return 1e9 / bestNs;
    }
}

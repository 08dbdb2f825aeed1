package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * {@code out[rows, cols] += a[rows, red] . b[red, cols]}: the accumulating GEMM of the two backward products
 * of a linear layer, whose second operand has the output's columns contiguous ({@code b[p, c]} at
 * {@code p * cols + c}): {@code dX[n, k] += dY[n, m] . W[m, k]} and {@code dW[m, k] += dY[n, m]^T . X[n, k]}.
 *
 * <p>Layout. {@code a} is read through element strides ({@code a[r, p]} at {@code r * aRow + p * aRed}), so
 * both {@code dY} (strides {@code m, 1}) and {@code dY^T} (strides {@code 1, m}) are read in place; it is
 * repacked once per call into blocks of {@link #MR} rows, p-major: {@code ap[blk][p][r]} (rows past the end are 0).
 * Work unit: a tile of {@link #TW} columns and a chunk of at most {@link #RC} rows, whose part of {@code out} is
 * copied into a per-thread tile {@code [RC, TW]} at the start and back at the end. Per p-block of {@link #PB},
 * {@code b} is converted once into a float32 pack {@code [PB, TW]} (BF16/F16 widened, F32 copied), reused by
 * every row block of the chunk. The micro-kernel takes one row block and a strip of {@link #CW} = {@link #NV}
 * vectors of columns, with MR x NV vector accumulators; per p: NV vector loads of the pack, MR broadcasts of
 * {@code ap}, MR*NV FMAs. The packs and the tile are {@code float[]}: array loads have one shape whatever
 * segments the caller passes (heap arrays in training, native or mapped memory in inference), so the
 * micro-kernel's loads never meet a mixed type profile (with native segment packs beside heap outputs this
 * loop ran at 22 instead of 165 GFLOP/s: 2 threads, dX [128, 1024] += dY [128, 1024] . W [1024, 1024]).
 *
 * <p>Order: the accumulators are loaded from the tile at the start of a p-block and stored at its end, so
 * every element is one fma chain {@code o = fma(a[r, p], b[p, c], o)} over {@code p = 0, 1, ..., red-1} from
 * its old value: the bits depend on neither the blocking nor the thread count (each element is owned by one
 * work unit), and equal those of the plain loop.
 */
final class AccumGemm {
    private AccumGemm() {}

    /** Rows of a per micro-kernel. */
    static final int MR = 4;
    /** Column vectors per micro-kernel. */
    static final int NV = 4;
    /** Columns per strip. */
    static final int CW = NV * L;
    /** Columns per work unit (b pack and tile width): 4 strips. */
    static final int TW = 4 * CW;
    /** Rows per work unit at most (a multiple of MR): the tile {@code [RC, TW]} is 256 KiB with 512-bit vectors. */
    static final int RC = 256;
    /**
     * Reduction block: the b pack is {@code [PB, TW]} floats (128 KiB with 512-bit vectors, in L2); one strip
     * of it (32 KiB) stays in L1 while the micro-kernel walks the row blocks.
     */
    static final int PB = 128;

    private static final ValueLayout.OfFloat F = ScalarKernels.F32;

    /** Per-thread b pack {@code [PB, TW]} and output tile {@code [RC, TW]}. */
    private static final ThreadLocal<float[]> BPACK = ThreadLocal.withInitial(() -> new float[PB * TW]);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[RC * TW]);
    /** The caller's packed a (read by the workers: published by {@link CpuThreads#parallelFor}), up to 16 MiB. */
    private static final ThreadLocal<float[]> APACK = ThreadLocal.withInitial(() -> new float[0]);
    private static final int APACK_KEEP = 1 << 22;
    /** Per-thread row buffer of {@link #packA}. */
    private static final ThreadLocal<float[]> AROW = ThreadLocal.withInitial(() -> new float[1024]);

    static void run(CpuThreads t, MemorySegment a, long aRow, long aRed, int rows, int red,
                    MemorySegment b, WeightFormat bf, int cols, MemorySegment out) {
        if (rows == 0 || cols == 0 || red == 0) return;
        int blocks = (rows + MR - 1) / MR;
        long apLen = (long) blocks * MR * red;
        if (apLen > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("accumulating matmul: a [" + rows + ", " + red + "] is too large for one pack ("
                    + apLen + " floats)");
        }
        float[] apAll = APACK.get();
        if (apAll.length < apLen) {
            apAll = new float[(int) apLen];
            // a large pack (dY of the lm_head: labelled rows x vocab) is not kept after the call
            if (apLen <= APACK_KEEP) APACK.set(apAll);
        }
        float[] ap = apAll;
        boolean parallel = (long) rows * cols * red >= 262_144 && t.size() > 1;
        CpuThreads.RangeTask packA = (from, to) -> {
            for (int blk = from; blk < to; blk++) packA(a, aRow, aRed, rows, red, ap, blk);
        };
        if (parallel) t.parallelFor(blocks, packA);
        else packA.run(0, blocks);
        int tiles = (cols + TW - 1) / TW;
        // row chunks of at most RC rows, split further when there are too few tiles to go round (each chunk
        // packs b again); the bits do not depend on the split
        int perChunk = RC / MR;
        if (parallel) {
            int want = Math.max(1, (4 * t.size() + tiles - 1) / tiles);
            perChunk = Math.max(1, Math.min(perChunk, (blocks + want - 1) / want));
        }
        int chunkBlocks = perChunk;
        int chunks = (blocks + perChunk - 1) / perChunk;
        CpuThreads.RangeTask task = (from, to) -> {
            float[] bp = BPACK.get(), tile = TILE.get();
            for (int u = from; u < to; u++) {
                int blk0 = (u % chunks) * chunkBlocks;
                unit(ap, rows, red, b, bf, cols, out, bp, tile, (u / chunks) * TW, blk0, Math.min(blocks, blk0 + chunkBlocks));
            }
        };
        if (parallel) t.parallelFor(tiles * chunks, task);
        else task.run(0, tiles * chunks);
    }

    /** {@code ap[blk][p][r] = a[blk*MR + r, p]}, 0 past {@code rows}. */
    private static void packA(MemorySegment a, long aRow, long aRed, int rows, int red, float[] ap, int blk) {
        int base = blk * red * MR;
        float[] row = AROW.get();
        for (int r = 0; r < MR; r++) {
            int i = blk * MR + r;
            if (i >= rows) {
                for (int p = 0; p < red; p++) ap[base + p * MR + r] = 0f;
            } else if (aRed == 1) {
                // rows of dY: bulk copies of 1024 elements, then the interleave on arrays
                for (int p0 = 0; p0 < red; p0 += row.length) {
                    int pn = Math.min(row.length, red - p0);
                    MemorySegment.copy(a, F, (i * aRow + p0) * 4, row, 0, pn);
                    for (int p = 0; p < pn; p++) ap[base + (p0 + p) * MR + r] = row[p];
                }
            } else {
                long ao = i * aRow;
                for (int p = 0; p < red; p++) ap[base + p * MR + r] = a.getAtIndex(F, ao + p * aRed);
            }
        }
    }

    /** Columns {@code [c0, c0 + TW)} of row blocks {@code [blk0, blk1)}. */
    private static void unit(float[] ap, int rows, int red, MemorySegment b, WeightFormat bf, int cols,
                             MemorySegment out, float[] bp, float[] tile, int c0, int blk0, int blk1) {
        int tn = Math.min(TW, cols - c0);
        int tnPadded = (tn + CW - 1) / CW * CW;
        int r0 = blk0 * MR, r1 = Math.min(rows, blk1 * MR);
        // rows past the end and lanes past the last column are computed, never stored
        for (int r = r0; r < r1; r++) MemorySegment.copy(out, F, ((long) r * cols + c0) * 4, tile, (r - r0) * TW, tn);
        for (int p0 = 0; p0 < red; p0 += PB) {
            int pn = Math.min(PB, red - p0);
            for (int p = 0; p < pn; p++) {
                convert(b, (long) (p0 + p) * cols + c0, bf, tn, bp, p * TW);
                // zeros keep the lanes past the last column finite and normal
                if (tn < tnPadded) java.util.Arrays.fill(bp, p * TW + tn, p * TW + tnPadded, 0f);
            }
            for (int s0 = 0; s0 < tn; s0 += CW) {
                for (int blk = blk0; blk < blk1; blk++) {
                    micro(ap, (blk * red + p0) * MR, bp, s0, pn, tile, (blk - blk0) * MR * TW + s0);
                }
            }
        }
        for (int r = r0; r < r1; r++) MemorySegment.copy(tile, (r - r0) * TW, out, F, ((long) r * cols + c0) * 4, tn);
    }

    /** {@code dst[di + i] = b[index + i]} as float32 for {@code i < count}. */
    private static void convert(MemorySegment b, long index, WeightFormat bf, int count, float[] dst, int di) {
        int i = 0;
        switch (bf) {
            case F32 -> MemorySegment.copy(b, F, index * 4, dst, di, count);
            case BF16 -> {
                for (int cv = FS.loopBound(count); i < cv; i += L) VectorOps.bf16(b, (index + i) * 2).intoArray(dst, di + i);
                for (; i < count; i++) dst[di + i] = bf.get(b, index + i);
            }
            case F16 -> {
                for (int cv = FS.loopBound(count); i < cv; i += L) VectorOps.f16(b, (index + i) * 2).intoArray(dst, di + i);
                for (; i < count; i++) dst[di + i] = bf.get(b, index + i);
            }
        }
    }

    /**
     * {@code tile[o + r*TW + c] = fma chain over p < pn of ap[ai + p*MR + r] * bp[bi + p*TW + c]} from its value,
     * for r < MR, c < CW. The accumulators stay in this method: vectors passed to a call that is not inlined
     * would be boxed.
     */
    private static void micro(float[] ap, int ai, float[] bp, int bi, int pn, float[] tile, int o) {
        int o0 = o, o1 = o + TW, o2 = o + 2 * TW, o3 = o + 3 * TW;
        int v1 = L, v2 = 2 * L, v3 = 3 * L;
        FloatVector c00 = FloatVector.fromArray(FS, tile, o0), c01 = FloatVector.fromArray(FS, tile, o0 + v1),
                c02 = FloatVector.fromArray(FS, tile, o0 + v2), c03 = FloatVector.fromArray(FS, tile, o0 + v3);
        FloatVector c10 = FloatVector.fromArray(FS, tile, o1), c11 = FloatVector.fromArray(FS, tile, o1 + v1),
                c12 = FloatVector.fromArray(FS, tile, o1 + v2), c13 = FloatVector.fromArray(FS, tile, o1 + v3);
        FloatVector c20 = FloatVector.fromArray(FS, tile, o2), c21 = FloatVector.fromArray(FS, tile, o2 + v1),
                c22 = FloatVector.fromArray(FS, tile, o2 + v2), c23 = FloatVector.fromArray(FS, tile, o2 + v3);
        FloatVector c30 = FloatVector.fromArray(FS, tile, o3), c31 = FloatVector.fromArray(FS, tile, o3 + v1),
                c32 = FloatVector.fromArray(FS, tile, o3 + v2), c33 = FloatVector.fromArray(FS, tile, o3 + v3);
        for (int p = 0; p < pn; p++) {
            int bo = bi + p * TW, ao = ai + p * MR;
            FloatVector b0 = FloatVector.fromArray(FS, bp, bo), b1 = FloatVector.fromArray(FS, bp, bo + v1),
                    b2 = FloatVector.fromArray(FS, bp, bo + v2), b3 = FloatVector.fromArray(FS, bp, bo + v3);
            FloatVector s = FloatVector.broadcast(FS, ap[ao]);
            c00 = b0.fma(s, c00); c01 = b1.fma(s, c01); c02 = b2.fma(s, c02); c03 = b3.fma(s, c03);
            s = FloatVector.broadcast(FS, ap[ao + 1]);
            c10 = b0.fma(s, c10); c11 = b1.fma(s, c11); c12 = b2.fma(s, c12); c13 = b3.fma(s, c13);
            s = FloatVector.broadcast(FS, ap[ao + 2]);
            c20 = b0.fma(s, c20); c21 = b1.fma(s, c21); c22 = b2.fma(s, c22); c23 = b3.fma(s, c23);
            s = FloatVector.broadcast(FS, ap[ao + 3]);
            c30 = b0.fma(s, c30); c31 = b1.fma(s, c31); c32 = b2.fma(s, c32); c33 = b3.fma(s, c33);
        }
        c00.intoArray(tile, o0); c01.intoArray(tile, o0 + v1); c02.intoArray(tile, o0 + v2); c03.intoArray(tile, o0 + v3);
        c10.intoArray(tile, o1); c11.intoArray(tile, o1 + v1); c12.intoArray(tile, o1 + v2); c13.intoArray(tile, o1 + v3);
        c20.intoArray(tile, o2); c21.intoArray(tile, o2 + v1); c22.intoArray(tile, o2 + v2); c23.intoArray(tile, o2 + v3);
        c30.intoArray(tile, o3); c31.intoArray(tile, o3 + v1); c32.intoArray(tile, o3 + v2); c33.intoArray(tile, o3 + v3);
    }
}

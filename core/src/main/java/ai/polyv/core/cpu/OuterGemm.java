package ai.polyv.core.cpu;

import static ai.polyv.core.cpu.VectorOps.FS;
import static ai.polyv.core.cpu.VectorOps.L;
import static ai.polyv.core.cpu.VectorOps.LE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * {@code out[n, m] = x[n, k] @ w[m, k]^T (+ bias)} for {@code n >= PW}: blocked GEMM with an outer-product
 * (broadcast) micro-kernel, so the inner loop has no lane reductions.
 *
 * <p>Layout. x is repacked once per call into panels of {@link #PW} = 2 vectors of rows, transposed:
 * {@code xp[panel][p][lane]} = {@code x[panel*PW + lane, p]} (rows past n are 0, computed, never stored).
 * Work unit: a tile of {@code jb} weight rows (threads share tiles out). Per tile and k-block of {@code kb},
 * the weights are converted once into a float32 pack {@code [jb, kb]} (reused by every panel). The micro-kernel
 * takes one panel (2 vectors of x rows) and {@link #NJ} weight rows: per p, 2 vector loads of the panel,
 * NJ broadcasts from the pack, 2*NJ FMAs into 2*NJ vector accumulators ({@code acc[row lanes] for one
 * weight row}). After the k-block the accumulators go through a small scratch into {@code out} (transposed).
 *
 * <p>Order: every output element is {@code bias + sum over k-blocks of (fma chain over p in the block)},
 * the same for any thread count or timing (each element is owned by the tile of its column).
 */
final class OuterGemm {
    private OuterGemm() {}

    static final int DEFAULT_JB = 64;
    static final int DEFAULT_KB = 256;
    /** Weight rows per micro-kernel. */
    static final int NJ = 8;
    /** x rows per panel. */
    static final int PW = Gemm.PW;

    private static final ValueLayout.OfFloat F = ScalarKernels.F32;

    /** Per-thread native scratch: the weight pack {@code [jb, kb]} and the micro-kernel's tile {@code [NJ, PW]}. */
    private static final ThreadLocal<MemorySegment> PACK = ThreadLocal.withInitial(() -> MemorySegment.NULL);
    private static final ThreadLocal<MemorySegment> TILE = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(4L * NJ * PW, 64));
    /** The caller's x panels (an auto arena, so the workers may read them). */
    private static final ThreadLocal<MemorySegment> PANELS = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    static void run(CpuThreads t, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                    MemorySegment bias, MemorySegment out, int jb, int kb) {
        if (jb % NJ != 0 || jb <= 0 || kb <= 0) throw new IllegalArgumentException("gemm: bad blocking jb=" + jb + " kb=" + kb);
        int panels = (n + PW - 1) / PW;
        long panelBytes = 4L * panels * PW * k;
        MemorySegment xpAll = PANELS.get();
        if (xpAll.byteSize() < panelBytes) PANELS.set(xpAll = Arena.ofAuto().allocate(panelBytes, 64));
        MemorySegment xp = xpAll;
        boolean parallel = (long) n * m * k >= 262_144;
        CpuThreads.RangeTask packX = (from, to) -> {
            for (int pi = from; pi < to; pi++) packPanel(x, n, k, xp, pi);
        };
        if (parallel) t.parallelFor(panels, packX);
        else packX.run(0, panels);
        int tiles = (m + jb - 1) / jb;
        CpuThreads.RangeTask task = (from, to) -> {
            MemorySegment pack = PACK.get();
            if (pack.byteSize() < 4L * jb * kb) PACK.set(pack = Arena.ofAuto().allocate(4L * jb * kb, 64));
            MemorySegment tile = TILE.get();
            for (int ti = from; ti < to; ti++) tile(xp, panels, n, k, w, wf, m, bias, out, jb, kb, ti, pack, tile);
        };
        if (parallel) t.parallelFor(tiles, task);
        else task.run(0, tiles);
    }

    /** {@code xp[pi][p][lane] = x[pi*PW + lane, p]}, 0 past n. */
    private static void packPanel(MemorySegment x, int n, int k, MemorySegment xp, int pi) {
        long base = (long) pi * k * PW;
        for (int lane = 0; lane < PW; lane++) {
            int i = pi * PW + lane;
            if (i < n) {
                long xo = (long) i * k;
                for (int p = 0; p < k; p++) xp.setAtIndex(F, base + (long) p * PW + lane, x.getAtIndex(F, xo + p));
            } else {
                for (int p = 0; p < k; p++) xp.setAtIndex(F, base + (long) p * PW + lane, 0f);
            }
        }
    }

    private static void tile(MemorySegment xp, int panels, int n, int k, MemorySegment w, WeightFormat wf, int m,
                             MemorySegment bias, MemorySegment out, int jb, int kb, int ti,
                             MemorySegment pack, MemorySegment tile) {
        int j0 = ti * jb;
        int jn = Math.min(jb, m - j0);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < jn; c++) {
                out.setAtIndex(F, (long) i * m + j0 + c, bias == null ? 0f : bias.getAtIndex(F, j0 + c));
            }
        }
        for (int k0 = 0; k0 < k; k0 += kb) {
            int kn = Math.min(kb, k - k0);
            // always a native float32 pack (also for F32 weights): one segment kind at the broadcast sites
            for (int c = 0; c < jn; c++) {
                CpuKernels.convertRow(w, ((long) (j0 + c) * k + k0) * wf.byteSize(), wf, kn, pack, (long) c * kn * 4);
            }
            for (int pi = 0; pi < panels; pi++) {
                long xb = ((long) pi * k + k0) * PW * 4;
                int rows = Math.min(PW, n - pi * PW);
                for (int c0 = 0; c0 < jn; c0 += NJ) {
                    micro(xp, xb, pack, kn, c0, jn, tile);
                    addTile(tile, out, m, pi * PW, rows, j0 + c0, Math.min(NJ, jn - c0));
                }
            }
        }
    }

    /**
     * {@code tile[r][lane] = sum_p xp[p][lane] * pack[c0 + r][p]} for r < NJ (rows past jn repeat the last one).
     * The accumulators stay in this method: vectors passed to a call that is not inlined would be boxed.
     */
    private static void micro(MemorySegment xp, long xb, MemorySegment pack, int kn, int c0, int jn, MemorySegment tile) {
        long ws = (long) kn * 4;
        long w0 = c0 * ws, w1 = Math.min(c0 + 1, jn - 1) * ws, w2 = Math.min(c0 + 2, jn - 1) * ws,
                w3 = Math.min(c0 + 3, jn - 1) * ws, w4 = Math.min(c0 + 4, jn - 1) * ws, w5 = Math.min(c0 + 5, jn - 1) * ws,
                w6 = Math.min(c0 + 6, jn - 1) * ws, w7 = Math.min(c0 + 7, jn - 1) * ws;
        FloatVector z = FloatVector.zero(FS);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z,
                b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z;
        long step = 4L * PW;
        for (int p = 0; p < kn; p++) {
            long xo = xb + p * step, wo = p * 4L;
            FloatVector u = VectorOps.f32(xp, xo), v = VectorOps.f32(xp, xo + 4L * L);
            FloatVector s = FloatVector.broadcast(FS, pack.get(F, w0 + wo));
            a0 = u.fma(s, a0); b0 = v.fma(s, b0);
            s = FloatVector.broadcast(FS, pack.get(F, w1 + wo));
            a1 = u.fma(s, a1); b1 = v.fma(s, b1);
            s = FloatVector.broadcast(FS, pack.get(F, w2 + wo));
            a2 = u.fma(s, a2); b2 = v.fma(s, b2);
            s = FloatVector.broadcast(FS, pack.get(F, w3 + wo));
            a3 = u.fma(s, a3); b3 = v.fma(s, b3);
            s = FloatVector.broadcast(FS, pack.get(F, w4 + wo));
            a4 = u.fma(s, a4); b4 = v.fma(s, b4);
            s = FloatVector.broadcast(FS, pack.get(F, w5 + wo));
            a5 = u.fma(s, a5); b5 = v.fma(s, b5);
            s = FloatVector.broadcast(FS, pack.get(F, w6 + wo));
            a6 = u.fma(s, a6); b6 = v.fma(s, b6);
            s = FloatVector.broadcast(FS, pack.get(F, w7 + wo));
            a7 = u.fma(s, a7); b7 = v.fma(s, b7);
        }
        long r = 4L * PW, h = 4L * L;
        a0.intoMemorySegment(tile, 0, LE); b0.intoMemorySegment(tile, h, LE);
        a1.intoMemorySegment(tile, r, LE); b1.intoMemorySegment(tile, r + h, LE);
        a2.intoMemorySegment(tile, 2 * r, LE); b2.intoMemorySegment(tile, 2 * r + h, LE);
        a3.intoMemorySegment(tile, 3 * r, LE); b3.intoMemorySegment(tile, 3 * r + h, LE);
        a4.intoMemorySegment(tile, 4 * r, LE); b4.intoMemorySegment(tile, 4 * r + h, LE);
        a5.intoMemorySegment(tile, 5 * r, LE); b5.intoMemorySegment(tile, 5 * r + h, LE);
        a6.intoMemorySegment(tile, 6 * r, LE); b6.intoMemorySegment(tile, 6 * r + h, LE);
        a7.intoMemorySegment(tile, 7 * r, LE); b7.intoMemorySegment(tile, 7 * r + h, LE);
    }

    /** {@code out[i0 + l, j + c] += tile[c][l]} for l < rows, c < cols. */
    private static void addTile(MemorySegment tile, MemorySegment out, int m, int i0, int rows, int j, int cols) {
        for (int l = 0; l < rows; l++) {
            long o = (long) (i0 + l) * m + j;
            for (int c = 0; c < cols; c++) {
                out.setAtIndex(F, o + c, out.getAtIndex(F, o + c) + tile.getAtIndex(F, (long) c * PW + l));
            }
        }
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

import static ai.polyv.cuda.kernels.LaunchChecks.intDim;
import static ai.polyv.cuda.kernels.LaunchChecks.require;
import static ai.polyv.cuda.kernels.LaunchChecks.shape;
import static ai.polyv.cuda.kernels.LaunchChecks.tensor;

import java.util.List;

import jcuda.driver.CUstream;

/**
 * Launcher of {@code expert_ffn.cu}: the experts as a grouped GEMM over the expert-contiguous entries.
 * Phase 1 {@code h = silu(A gate_e^T) * (A up_e^T)} (gate and up share the A tile), phase 2
 * {@code y = rowScale * (h down_e^T)}; the combine stays in {@link TokenPermutationKernel#combine}
 * (deterministic, no atomics) with {@code w = null} when {@code rowScale} was the router weight.
 *
 * <p>Paths ({@link #TABLE}, keyed by the number of entries {@code tokens * k}):
 * <ul>
 *   <li>{@link Path#GEMV} (decode): block 256 = 8 warps, one output column per warp, grid
 *       {@code (ceil(N / 8), M)}; an expert with no entry reads none of its weights.</li>
 *   <li>{@link Path#MMA} (prefill): block 256, CTA tile 128 x 128 x 32 (gate_up: 64 gate + 64 up
 *       columns), grid {@code (ceil(n / 128) + M, ceil(N / BN))}, 48 KiB static shared memory.</li>
 * </ul>
 * Both paths are correct for every size (GEMV loops over rows in groups of 8); the table only picks the
 * faster one.
 */
public final class ExpertFfnKernel {
    public static final String NAME = "expert_ffn";
    public static final int MAX_EXPERTS = 64;
    static final int THREADS = 256;
    static final int BM = 128;
    static final int GEMV_COLUMNS_PER_BLOCK = 8;

    public enum Path { GEMV, MMA }

    public record Config(Path path) {}

    /** Initial split (not yet tuned on a GPU): GEMV up to 16 entries (8 tokens at top-2). */
    public static final LaunchTable<Config> TABLE = new LaunchTable<>(NAME, List.of(
            new LaunchTable.Row<>(16, new Config(Path.GEMV)),
            new LaunchTable.Row<>(Long.MAX_VALUE, new Config(Path.MMA))));

    /** One validated GEMM: {@code entries x n} output, reduction over {@code k}. */
    public record Plan(int entries, int experts, int n, int k, Path path, String kernel, int gridX, int gridY) {}

    private final KernelLookup lookup;

    public ExpertFfnKernel(KernelLookup lookup) {
        this.lookup = lookup;
    }

    /** Host-side check of expert offsets {@code [M+1]} (0, non-decreasing, ending at {@code entries}). */
    public static void checkOffsets(int[] offsets, int experts, long entries) {
        LaunchChecks.offsets(NAME, offsets, experts, entries);
    }

    private static Plan plan(String phase, int entries, int experts, int n, int k, int bn, Path forced) {
        require(experts >= 1 && experts <= MAX_EXPERTS, NAME, "number of experts " + experts + " not in [1, " + MAX_EXPERTS + "]");
        require(entries >= 1, NAME, phase + ": no entries");
        require(k % 8 == 0, NAME, phase + ": reduction width " + k + " must be a multiple of 8 (16-byte loads)");
        require(n % 2 == 0, NAME, phase + ": output width " + n + " must be even (paired stores)");
        Path path = forced != null ? forced : TABLE.pick(entries).path();
        String kernel = "expert_" + phase + (path == Path.MMA ? "_mma_v2" : "_gemv_v2");
        int gx, gy;
        if (path == Path.MMA) {
            gx = (entries + BM - 1) / BM + experts;
            gy = (n + bn - 1) / bn;
        } else {
            gx = (n + GEMV_COLUMNS_PER_BLOCK - 1) / GEMV_COLUMNS_PER_BLOCK;
            gy = experts;
        }
        require(gy <= 65535, NAME, phase + ": grid y " + gy + " above 65535");
        return new Plan(entries, experts, n, k, path, kernel, gx, gy);
    }

    /**
     * @param a       {@code [rowsA, hidden]} BF16: token rows {@code x} (with {@code aRows = permToken}) or
     *                permuted rows {@code xPerm} (with {@code aRows = null}, then rowsA = entries)
     * @param aRows   {@code [entries]} I32 row of {@code a} for each entry, or null
     * @param gateW   {@code [M, ffn, hidden]} BF16 stacked gate_proj weights
     * @param upW     {@code [M, ffn, hidden]} BF16 stacked up_proj weights
     * @param offsets {@code [M+1]} I32 expert ranges from moe_align
     * @param h       {@code [entries, ffn]} BF16 out
     * @param forced  a path to use regardless of {@link #TABLE}, or null
     */
    public static Plan planGateUp(DeviceTensor a, DeviceTensor aRows, DeviceTensor gateW, DeviceTensor upW,
                                  DeviceTensor offsets, DeviceTensor h, Path forced) {
        tensor(NAME, a, 2, DType.BF16);
        tensor(NAME, gateW, 3, DType.BF16);
        int experts = intDim(NAME, gateW, 0), ffn = intDim(NAME, gateW, 1), hidden = intDim(NAME, gateW, 2);
        require(a.dim(1) == hidden, NAME, a + " must have hidden = " + hidden + " columns like " + gateW);
        tensor(NAME, upW, 3, DType.BF16);
        shape(NAME, upW, experts, ffn, hidden);
        tensor(NAME, offsets, 1, DType.I32);
        shape(NAME, offsets, experts + 1);
        tensor(NAME, h, 2, DType.BF16);
        int entries = intDim(NAME, h, 0);
        shape(NAME, h, entries, ffn);
        if (aRows != null) {
            tensor(NAME, aRows, 1, DType.I32);
            shape(NAME, aRows, entries);
        } else {
            require(a.dim(0) == entries, NAME, a + " must have one row per entry (" + entries + ") when aRows is null");
        }
        return plan("gate_up", entries, experts, ffn, hidden, 64, forced);
    }

    /**
     * @param h        {@code [entries, ffn]} BF16 from phase 1
     * @param downW    {@code [M, hidden, ffn]} BF16 stacked down_proj weights
     * @param offsets  {@code [M+1]} I32
     * @param rowScale {@code [entries]} F32 (permWeight: fuses the router weight) or null
     * @param y        {@code [entries, hidden]} F32 out, entry order
     */
    public static Plan planDown(DeviceTensor h, DeviceTensor downW, DeviceTensor offsets, DeviceTensor rowScale,
                                DeviceTensor y, Path forced) {
        tensor(NAME, h, 2, DType.BF16);
        tensor(NAME, downW, 3, DType.BF16);
        int experts = intDim(NAME, downW, 0), hidden = intDim(NAME, downW, 1), ffn = intDim(NAME, downW, 2);
        int entries = intDim(NAME, h, 0);
        require(h.dim(1) == ffn, NAME, h + " must have ffn = " + ffn + " columns like " + downW);
        tensor(NAME, offsets, 1, DType.I32);
        shape(NAME, offsets, experts + 1);
        if (rowScale != null) {
            tensor(NAME, rowScale, 1, DType.F32);
            shape(NAME, rowScale, entries);
        }
        tensor(NAME, y, 2, DType.F32);
        shape(NAME, y, entries, hidden);
        return plan("down", entries, experts, hidden, ffn, 128, forced);
    }

    public Plan gateUp(CUstream stream, DeviceTensor a, DeviceTensor aRows, DeviceTensor gateW, DeviceTensor upW,
                       DeviceTensor offsets, DeviceTensor h, Path forced) {
        Plan p = planGateUp(a, aRows, gateW, upW, offsets, h, forced);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.gridX(), p.gridY(), 1, THREADS, 0), stream,
                a, aRows, gateW, upW, offsets, p.experts(), p.n(), p.k(), h);
        return p;
    }

    public Plan down(CUstream stream, DeviceTensor h, DeviceTensor downW, DeviceTensor offsets, DeviceTensor rowScale,
                     DeviceTensor y, Path forced) {
        Plan p = planDown(h, downW, offsets, rowScale, y, forced);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.gridX(), p.gridY(), 1, THREADS, 0), stream,
                h, downW, offsets, p.experts(), p.n(), p.k(), rowScale, y);
        return p;
    }

    /** Reference phase 1 ({@code expert_gate_up_v1}, one thread per output element). */
    public Plan gateUpReference(CUstream stream, DeviceTensor a, DeviceTensor aRows, DeviceTensor gateW, DeviceTensor upW,
                                DeviceTensor offsets, DeviceTensor h) {
        Plan p = planGateUp(a, aRows, gateW, upW, offsets, h, Path.MMA);
        Launch.run(lookup.function("expert_gate_up_v1"), "expert_gate_up_v1", new Launch.Dims(elementBlocks(p), 1, 1, 256, 0), stream,
                a, aRows, gateW, upW, offsets, p.experts(), p.n(), p.k(), h);
        return p;
    }

    /** Reference phase 2 ({@code expert_down_v1}). */
    public Plan downReference(CUstream stream, DeviceTensor h, DeviceTensor downW, DeviceTensor offsets, DeviceTensor rowScale,
                              DeviceTensor y) {
        Plan p = planDown(h, downW, offsets, rowScale, y, Path.MMA);
        Launch.run(lookup.function("expert_down_v1"), "expert_down_v1", new Launch.Dims(elementBlocks(p), 1, 1, 256, 0), stream,
                h, downW, offsets, p.experts(), p.n(), p.k(), rowScale, y);
        return p;
    }

    private static int elementBlocks(Plan p) {
        long blocks = ((long) p.entries() * p.n() + 255) / 256;
        require(blocks <= Integer.MAX_VALUE, NAME, "too many elements for the reference kernel");
        return (int) blocks;
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

import static ai.polyv.cuda.kernels.LaunchChecks.intDim;
import static ai.polyv.cuda.kernels.LaunchChecks.require;
import static ai.polyv.cuda.kernels.LaunchChecks.shape;
import static ai.polyv.cuda.kernels.LaunchChecks.tensor;

import java.util.List;

import jcuda.driver.CUstream;

/**
 * Launcher of {@code token_permutation.cu}: stable expert grouping of the top-k assignments
 * ({@code moe_align_v2}), the optional row gather ({@code moe_permute_rows_v2}) and the deterministic
 * weighted combine ({@code moe_combine_v2_*}). Order and contract as {@code model.TokenPermutation}:
 * experts ascending, inside an expert by token then slot; {@code pos[t, j]} is the entry of assignment
 * {@code (t, j)}.
 *
 * <p>Launch: align = 1 block of 1024 threads (a single-block counting sort, chunks of 1024 assignments);
 * permute = one 128-thread block per entry row; combine = one block per token row with
 * {@link #TABLE}'s thread count; grids above 65535 rows are grid-strided. No dynamic shared memory.
 */
public final class TokenPermutationKernel {
    public static final String NAME = "token_permutation";
    public static final int MAX_EXPERTS = 64;
    static final int ALIGN_THREADS = 1024;
    static final int MAX_GRID = 65535;

    /** @param threads threads of one combine block (each handles 4 columns per step) */
    public record CombineConfig(int threads) {}

    /** Keyed by hidden width; initial values, not yet tuned on a GPU. */
    public static final LaunchTable<CombineConfig> TABLE = new LaunchTable<>(NAME, List.of(
            new LaunchTable.Row<>(1024, new CombineConfig(128)),
            new LaunchTable.Row<>(Long.MAX_VALUE, new CombineConfig(256))));

    /** @param entries {@code tokens * k} */
    public record AlignPlan(int tokens, int k, int experts, int entries) {}

    public record RowsPlan(int entries, int rowBytes, int blocks) {}

    public record CombinePlan(int tokens, int k, int hidden, boolean weighted, String kernel, int blocks, int threads) {}

    private final KernelLookup lookup;

    public TokenPermutationKernel(KernelLookup lookup) {
        this.lookup = lookup;
    }

    /**
     * @param ids        {@code [tokens, k]} I32 expert of each assignment (router output)
     * @param w          {@code [tokens, k]} F32 router weight of each assignment
     * @param offsets    {@code [M+1]} I32 out
     * @param permToken  {@code [tokens*k]} I32 out: token row of each entry
     * @param permWeight {@code [tokens*k]} F32 out: router weight of each entry
     * @param pos        {@code [tokens, k]} I32 out: entry of each assignment
     * @param badIds     {@code [1]} I32 out: number of ids outside [0, M) (0 expected)
     */
    public static AlignPlan planAlign(DeviceTensor ids, DeviceTensor w, DeviceTensor offsets, DeviceTensor permToken,
                                      DeviceTensor permWeight, DeviceTensor pos, DeviceTensor badIds, int experts) {
        tensor(NAME, ids, 2, DType.I32);
        int tokens = intDim(NAME, ids, 0), k = intDim(NAME, ids, 1);
        require(tokens >= 1 && k >= 1, NAME, ids + " is empty");
        require(experts >= 1 && experts <= MAX_EXPERTS, NAME, "number of experts " + experts + " not in [1, " + MAX_EXPERTS + "]");
        require(k <= experts, NAME, "k=" + k + " exceeds the " + experts + " experts");
        require((long) tokens * k <= Integer.MAX_VALUE, NAME, "tokens * k exceeds int range");
        int n = tokens * k;
        tensor(NAME, w, 2, DType.F32);
        shape(NAME, w, tokens, k);
        tensor(NAME, offsets, 1, DType.I32);
        shape(NAME, offsets, experts + 1);
        tensor(NAME, permToken, 1, DType.I32);
        shape(NAME, permToken, n);
        tensor(NAME, permWeight, 1, DType.F32);
        shape(NAME, permWeight, n);
        tensor(NAME, pos, 2, DType.I32);
        shape(NAME, pos, tokens, k);
        tensor(NAME, badIds, 1, DType.I32);
        shape(NAME, badIds, 1);
        return new AlignPlan(tokens, k, experts, n);
    }

    /** @param x {@code [tokens, hidden]} BF16 or F32; {@code xPerm [entries, hidden]} same dtype out */
    public static RowsPlan planPermuteRows(DeviceTensor x, DeviceTensor permToken, DeviceTensor xPerm) {
        tensor(NAME, x, 2, DType.BF16, DType.F32);
        tensor(NAME, permToken, 1, DType.I32);
        int n = intDim(NAME, permToken, 0);
        tensor(NAME, xPerm, 2, x.dtype());
        shape(NAME, xPerm, n, x.dim(1));
        long rowBytes = x.dim(1) * x.dtype().byteSize();
        require(rowBytes % 16 == 0, NAME, x + " rows are " + rowBytes + " bytes, must be a multiple of 16");
        require(n >= 1, NAME, permToken + " is empty");
        return new RowsPlan(n, (int) rowBytes, Math.min(n, MAX_GRID));
    }

    /**
     * @param y   {@code [tokens*k, hidden]} F32 expert outputs in entry order
     * @param pos {@code [tokens, k]} I32 from align
     * @param w   {@code [tokens, k]} F32 router weights, or null when the down projection applied them
     * @param out {@code [tokens, hidden]} F32 or BF16 out
     */
    public static CombinePlan planCombine(DeviceTensor y, DeviceTensor pos, DeviceTensor w, DeviceTensor out) {
        tensor(NAME, pos, 2, DType.I32);
        int tokens = intDim(NAME, pos, 0), k = intDim(NAME, pos, 1);
        tensor(NAME, y, 2, DType.F32);
        int hidden = intDim(NAME, y, 1);
        require(y.dim(0) == (long) tokens * k, NAME, y + " must have tokens*k = " + (long) tokens * k + " rows");
        require(hidden % 4 == 0, NAME, "hidden " + hidden + " must be a multiple of 4 (16-byte vectors)");
        if (w != null) {
            tensor(NAME, w, 2, DType.F32);
            shape(NAME, w, tokens, k);
        }
        tensor(NAME, out, 2, DType.F32, DType.BF16);
        shape(NAME, out, tokens, hidden);
        require(tokens >= 1, NAME, pos + " is empty");
        String kernel = out.dtype() == DType.F32 ? "moe_combine_v2_f32" : "moe_combine_v2_f32_to_bf16";
        return new CombinePlan(tokens, k, hidden, w != null, kernel, Math.min(tokens, MAX_GRID), TABLE.pick(hidden).threads());
    }

    public AlignPlan align(CUstream stream, DeviceTensor ids, DeviceTensor w, DeviceTensor offsets, DeviceTensor permToken,
                           DeviceTensor permWeight, DeviceTensor pos, DeviceTensor badIds, int experts) {
        AlignPlan p = planAlign(ids, w, offsets, permToken, permWeight, pos, badIds, experts);
        Launch.run(lookup.function("moe_align_v2"), "moe_align_v2", new Launch.Dims(1, 1, 1, ALIGN_THREADS, 0), stream,
                ids, w, p.entries(), p.k(), experts, offsets, permToken, permWeight, pos, badIds);
        return p;
    }

    /** The single-thread reference ({@code moe_align_v1}); {@code badIds} is not written. */
    public AlignPlan alignReference(CUstream stream, DeviceTensor ids, DeviceTensor w, DeviceTensor offsets,
                                    DeviceTensor permToken, DeviceTensor permWeight, DeviceTensor pos, DeviceTensor badIds,
                                    int experts) {
        AlignPlan p = planAlign(ids, w, offsets, permToken, permWeight, pos, badIds, experts);
        Launch.run(lookup.function("moe_align_v1"), "moe_align_v1", new Launch.Dims(1, 1, 1, 1, 0), stream,
                ids, w, p.entries(), p.k(), experts, offsets, permToken, permWeight, pos);
        return p;
    }

    public RowsPlan permuteRows(CUstream stream, DeviceTensor x, DeviceTensor permToken, DeviceTensor xPerm) {
        RowsPlan p = planPermuteRows(x, permToken, xPerm);
        Launch.run(lookup.function("moe_permute_rows_v2"), "moe_permute_rows_v2", new Launch.Dims(p.blocks(), 1, 1, 128, 0), stream,
                x, permToken, p.entries(), p.rowBytes(), xPerm);
        return p;
    }

    public CombinePlan combine(CUstream stream, DeviceTensor y, DeviceTensor pos, DeviceTensor w, DeviceTensor out) {
        CombinePlan p = planCombine(y, pos, w, out);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.blocks(), 1, 1, p.threads(), 0), stream,
                y, pos, w, p.tokens(), p.k(), p.hidden(), out);
        return p;
    }

    /** The one-thread-per-element reference combine ({@code out} must be F32). */
    public CombinePlan combineReference(CUstream stream, DeviceTensor y, DeviceTensor pos, DeviceTensor w, DeviceTensor out) {
        CombinePlan p = planCombine(y, pos, w, out);
        require(out.dtype() == DType.F32, NAME, "the reference combine writes F32, " + out + " given");
        long elems = (long) p.tokens() * p.hidden();
        require((elems + 255) / 256 <= Integer.MAX_VALUE, NAME, "too many elements for the reference combine");
        Launch.run(lookup.function("moe_combine_v1_f32"), "moe_combine_v1_f32", new Launch.Dims((int) ((elems + 255) / 256), 1, 1, 256, 0),
                stream, y, pos, w, p.tokens(), p.k(), p.hidden(), out);
        return p;
    }
}

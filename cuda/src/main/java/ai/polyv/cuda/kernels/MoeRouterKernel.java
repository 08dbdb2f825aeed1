package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

import static ai.polyv.cuda.kernels.LaunchChecks.intDim;
import static ai.polyv.cuda.kernels.LaunchChecks.require;
import static ai.polyv.cuda.kernels.LaunchChecks.shape;
import static ai.polyv.cuda.kernels.LaunchChecks.tensor;

import java.util.List;

import jcuda.driver.CUstream;

/**
 * Launcher of {@code moe_router.cu}: logits, softmax, top-k and the load-balancing sums in one kernel.
 *
 * <p>Launch: 256 threads (8 warps, one token row per warp, grid-stride), grid from {@link #TABLE}
 * (enough blocks for one warp per token, capped so the statistics partials stay small), no dynamic
 * shared memory. Experts are held in registers: M <= 8 uses the {@code _m8} build, else {@code _m64}.
 */
public final class MoeRouterKernel {
    public static final String NAME = "moe_router";
    public static final int MAX_EXPERTS = 64;
    public static final int THREADS = 256;
    static final int WARPS = THREADS / 32;

    /** @param maxBlocks upper bound on the grid (statistics partials need {@code [maxBlocks, 2, M]}) */
    public record Config(int maxBlocks) {}

    /** Initial values (not yet tuned on a GPU): 2 blocks per SM of an H100/H200 (132 SMs). */
    public static final LaunchTable<Config> TABLE = new LaunchTable<>(NAME, List.of(
            new LaunchTable.Row<>(Long.MAX_VALUE, new Config(264))));

    /** The validated problem and the chosen kernel and grid. */
    public record Plan(int tokens, int hidden, int experts, int k, boolean renormalize, String kernel, int blocks) {}

    private final KernelLookup lookup;

    public MoeRouterKernel(KernelLookup lookup) {
        this.lookup = lookup;
    }

    /** Rows the {@code partials} scratch needs for any token count: {@code [maxPartialBlocks(), 2, M]} floats. */
    public static int maxPartialBlocks() {
        return TABLE.rows().stream().mapToInt(r -> r.config().maxBlocks()).max().orElseThrow();
    }

    /**
     * Checks every argument against the kernel's contract.
     *
     * @param x        {@code [tokens, hidden]} BF16 or F32
     * @param gate     {@code [M, hidden]} BF16 (the router weight {@code mlp.gate.weight})
     * @param logits   {@code [tokens, M]} F32, or null to skip writing the logits
     * @param ids      {@code [tokens, k]} I32 out
     * @param weights  {@code [tokens, k]} F32 out
     * @param partials {@code [>= blocks, 2, M]} F32 scratch
     * @param counter  {@code [1]} I32 scratch, zero before the first launch (the kernel leaves it zero)
     * @param stats    {@code [2, M]} F32 out: sum of p per expert, count of argmax per expert
     */
    public static Plan plan(DeviceTensor x, DeviceTensor gate, DeviceTensor logits, DeviceTensor ids, DeviceTensor weights,
                            DeviceTensor partials, DeviceTensor counter, DeviceTensor stats, int k, boolean renormalize) {
        tensor(NAME, x, 2, DType.BF16, DType.F32);
        tensor(NAME, gate, 2, DType.BF16);
        int tokens = intDim(NAME, x, 0), hidden = intDim(NAME, x, 1), m = intDim(NAME, gate, 0);
        require(tokens >= 1, NAME, x + " has no token rows");
        require(hidden % 8 == 0, NAME, "hidden " + hidden + " must be a multiple of 8 (16-byte loads)");
        require(gate.dim(1) == hidden, NAME, gate + " must have " + hidden + " columns like " + x);
        require(m >= 1 && m <= MAX_EXPERTS, NAME, "number of experts " + m + " not in [1, " + MAX_EXPERTS + "]");
        require(k >= 1 && k <= m, NAME, "k=" + k + " not in [1, " + m + "]");
        if (logits != null) {
            tensor(NAME, logits, 2, DType.F32);
            shape(NAME, logits, tokens, m);
        }
        tensor(NAME, ids, 2, DType.I32);
        shape(NAME, ids, tokens, k);
        tensor(NAME, weights, 2, DType.F32);
        shape(NAME, weights, tokens, k);
        tensor(NAME, stats, 2, DType.F32);
        shape(NAME, stats, 2, m);
        tensor(NAME, counter, 1, DType.I32);
        shape(NAME, counter, 1);
        int blocks = (int) Math.min((tokens + WARPS - 1) / WARPS, TABLE.pick(tokens).maxBlocks());
        tensor(NAME, partials, 3, DType.F32);
        require(partials.dim(0) >= blocks && partials.dim(1) == 2 && partials.dim(2) == m, NAME,
                partials + " must be [>= " + blocks + ", 2, " + m + "]");
        String kernel = "moe_router_v2_x" + (x.dtype() == DType.BF16 ? "bf16" : "f32") + (m <= 8 ? "_m8" : "_m64");
        return new Plan(tokens, hidden, m, k, renormalize, kernel, blocks);
    }

    /** Validates (see {@link #plan}) and enqueues the fast router on {@code stream}. */
    public Plan launch(CUstream stream, DeviceTensor x, DeviceTensor gate, DeviceTensor logits, DeviceTensor ids,
                       DeviceTensor weights, DeviceTensor partials, DeviceTensor counter, DeviceTensor stats, int k,
                       boolean renormalize) {
        Plan p = plan(x, gate, logits, ids, weights, partials, counter, stats, k, renormalize);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.blocks(), 1, 1, THREADS, 0), stream,
                x, gate, p.tokens(), p.hidden(), p.experts(), k, renormalize ? 1 : 0, logits, ids, weights, partials, counter, stats);
        return p;
    }

    /** The reference kernels: router ({@code logits} required), then the statistics from the logits. */
    public Plan launchReference(CUstream stream, DeviceTensor x, DeviceTensor gate, DeviceTensor logits, DeviceTensor ids,
                                DeviceTensor weights, DeviceTensor partials, DeviceTensor counter, DeviceTensor stats, int k,
                                boolean renormalize) {
        require(logits != null, NAME, "the reference router needs the logits tensor");
        Plan p = plan(x, gate, logits, ids, weights, partials, counter, stats, k, renormalize);
        String v1 = "moe_router_v1_x" + (x.dtype() == DType.BF16 ? "bf16" : "f32");
        Launch.run(lookup.function(v1), v1, new Launch.Dims((p.tokens() + 127) / 128, 1, 1, 128, 0), stream,
                x, gate, p.tokens(), p.hidden(), p.experts(), k, renormalize ? 1 : 0, logits, ids, weights);
        Launch.run(lookup.function("moe_router_stats_v1"), "moe_router_stats_v1", new Launch.Dims(1, 1, 1, MAX_EXPERTS, 0), stream,
                logits, p.tokens(), p.experts(), stats);
        return p;
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.DType;

import static ai.polyv.cuda.kernels.LaunchChecks.intDim;
import static ai.polyv.cuda.kernels.LaunchChecks.require;
import static ai.polyv.cuda.kernels.LaunchChecks.shape;
import static ai.polyv.cuda.kernels.LaunchChecks.tensor;

import java.util.Set;

import jcuda.driver.CUstream;

/**
 * Launcher of {@code window_attention.cu}: non-causal variable-length attention of the vision encoder
 * (window sequences and full-frame sequences), scale {@code hd^-0.5}, same maths as
 * {@code ReferenceOps.attentionSegments}.
 *
 * <p>Launch (fast): block 128 = 4 warps x 16 queries, one CTA per (64-query tile, sequence, head):
 * grid {@code (ceil(maxSeqlen / 64), numSeqs, heads)}; static shared memory {@code 2 * 64 * (hd + 8) * 2}
 * bytes (K and V tiles; Q passes through the V tile). The host keeps {@code cu_seqlens} (it builds them
 * from the window index), so the launcher checks them and takes {@code maxSeqlen} from them.
 */
public final class WindowAttentionKernel {
    public static final String NAME = "window_attention";
    public static final Set<Integer> FAST_HEAD_DIMS = Set.of(64, 80, 128);
    public static final int MAX_REFERENCE_HEAD_DIM = 128;
    static final int TILE = 64;
    static final int THREADS = 128;

    public record Plan(int tokens, int heads, int headDim, int numSeqs, int maxSeqlen, float scale, String kernel,
                       int gridX) {}

    private final KernelLookup lookup;

    public WindowAttentionKernel(KernelLookup lookup) {
        this.lookup = lookup;
    }

    /** Checks a host copy of {@code cu_seqlens [numSeqs+1]}: starts at 0, non-decreasing, ends at tokens; returns the longest sequence. */
    public static int checkCuSeqlens(int[] cuSeqlens, int tokens) {
        require(cuSeqlens.length >= 2, NAME, "cu_seqlens needs at least 2 values, has " + cuSeqlens.length);
        require(cuSeqlens[0] == 0, NAME, "cu_seqlens[0] is " + cuSeqlens[0] + ", expected 0");
        int max = 0;
        for (int s = 0; s + 1 < cuSeqlens.length; s++) {
            int len = cuSeqlens[s + 1] - cuSeqlens[s];
            require(len >= 0, NAME, "cu_seqlens must be non-decreasing: cu_seqlens[" + (s + 1) + "]=" + cuSeqlens[s + 1]
                    + " < cu_seqlens[" + s + "]=" + cuSeqlens[s]);
            max = Math.max(max, len);
        }
        require(cuSeqlens[cuSeqlens.length - 1] == tokens, NAME,
                "cu_seqlens ends at " + cuSeqlens[cuSeqlens.length - 1] + ", expected tokens = " + tokens);
        return max;
    }

    /**
     * @param q, k, v           {@code [tokens, heads * hd]} BF16 (fast kernel) or F32 (reference only)
     * @param cuSeqlensHost     host copy of the sequence boundaries {@code [numSeqs+1]}
     * @param cuSeqlens         the same values on the device, I32 {@code [numSeqs+1]}
     * @param out               {@code [tokens, heads * hd]} BF16 or F32
     * @param reference         plan the reference kernel ({@code window_attention_v1_*}, F32 out)
     */
    public static Plan plan(DeviceTensor q, DeviceTensor k, DeviceTensor v, int[] cuSeqlensHost, DeviceTensor cuSeqlens,
                            int heads, DeviceTensor out, boolean reference) {
        tensor(NAME, q, 2, reference ? new DType[] {DType.BF16, DType.F32} : new DType[] {DType.BF16});
        int tokens = intDim(NAME, q, 0), width = intDim(NAME, q, 1);
        require(tokens >= 1, NAME, q + " has no tokens");
        tensor(NAME, k, 2, q.dtype());
        shape(NAME, k, tokens, width);
        tensor(NAME, v, 2, q.dtype());
        shape(NAME, v, tokens, width);
        require(heads >= 1 && width % heads == 0, NAME, "width " + width + " is not a multiple of heads " + heads);
        int hd = width / heads;
        if (reference) {
            require(hd <= MAX_REFERENCE_HEAD_DIM, NAME, "head_dim " + hd + " above the reference limit " + MAX_REFERENCE_HEAD_DIM);
        } else {
            require(FAST_HEAD_DIMS.contains(hd), NAME, "head_dim " + hd + " not supported, expected one of " + FAST_HEAD_DIMS.stream().sorted().toList());
        }
        require(heads <= 65535, NAME, "heads " + heads + " above the grid limit 65535");
        tensor(NAME, out, 2, reference ? new DType[] {DType.F32} : new DType[] {DType.BF16, DType.F32});
        shape(NAME, out, tokens, width);
        int maxLen = checkCuSeqlens(cuSeqlensHost, tokens);
        int numSeqs = cuSeqlensHost.length - 1;
        require(numSeqs <= 65535, NAME, numSeqs + " sequences above the grid limit 65535");
        tensor(NAME, cuSeqlens, 1, DType.I32);
        shape(NAME, cuSeqlens, numSeqs + 1);
        float scale = (float) (1.0 / Math.sqrt(hd));
        String kernel = reference
                ? "window_attention_v1_" + (q.dtype() == DType.BF16 ? "bf16" : "f32") + "_to_f32"
                : "window_attention_v2_hd" + hd + "_bf16_to_" + (out.dtype() == DType.BF16 ? "bf16" : "f32");
        int gridX = reference ? (tokens + THREADS - 1) / THREADS : Math.max(1, (maxLen + TILE - 1) / TILE);
        return new Plan(tokens, heads, hd, numSeqs, maxLen, scale, kernel, gridX);
    }

    public Plan launch(CUstream stream, DeviceTensor q, DeviceTensor k, DeviceTensor v, int[] cuSeqlensHost,
                       DeviceTensor cuSeqlens, int heads, DeviceTensor out) {
        Plan p = plan(q, k, v, cuSeqlensHost, cuSeqlens, heads, out, false);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.gridX(), p.numSeqs(), heads, THREADS, 0), stream,
                q, k, v, cuSeqlens, heads, p.scale(), out);
        return p;
    }

    public Plan launchReference(CUstream stream, DeviceTensor q, DeviceTensor k, DeviceTensor v, int[] cuSeqlensHost,
                                DeviceTensor cuSeqlens, int heads, DeviceTensor out) {
        Plan p = plan(q, k, v, cuSeqlensHost, cuSeqlens, heads, out, true);
        Launch.run(lookup.function(p.kernel()), p.kernel(), new Launch.Dims(p.gridX(), heads, 1, THREADS, 0), stream,
                q, k, v, cuSeqlens, p.numSeqs(), p.tokens(), heads, p.headDim(), p.scale(), out);
        return p;
    }
}

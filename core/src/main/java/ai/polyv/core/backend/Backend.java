package ai.polyv.core.backend;

import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The closed set of operations the PolyV forward pass needs, on tensors this backend owns.
 * A backend is created by the caller and handed explicitly to the model; no static instance exists.
 *
 * <p>Conventions: activations are contiguous row-major F32 ({@link Tensor}); weights may be F32, BF16
 * or F16 (a backend that cannot handle a dtype throws {@link UnsupportedOperationException} naming
 * the op and dtype). Outputs are written completely; ops marked <i>in place</i> overwrite their
 * input. Shapes below are 2-D views {@code [rows, cols]}; a multi-head tensor {@code [n, heads*hd]}
 * keeps head {@code h} in columns {@code [h*hd, (h+1)*hd)}. Integer index arrays and routing results
 * live on the host (they steer host control flow: permutation, statistics, greedy choice).
 */
public interface Backend extends AutoCloseable {

    /** The CPU backend with one worker per available processor (the reference backend). */
    static Backend cpu() {
        return new CpuBackend();
    }

    /**
     * A backend by name: {@code cpu}, or one a {@link BackendProvider} on the class path offers
     * ({@code cuda}: fp32, golden tolerance; {@code cuda-bf16}: bf16 weights and GEMM inputs with the
     * fused PolyV kernels; both from the polyv-cuda module). Core never compiles against a GPU library.
     *
     * @throws IllegalArgumentException naming the known backends when no provider offers {@code name}
     */
    static Backend named(String name) {
        if (name.equals("cpu")) return cpu();
        java.util.List<String> known = new java.util.ArrayList<>(java.util.List.of("cpu"));
        for (BackendProvider p : java.util.ServiceLoader.load(BackendProvider.class)) {
            if (p.names().contains(name)) return p.open(name);
            known.addAll(p.names());
        }
        String cudaHint = known.contains("cuda") || !name.startsWith("cuda") ? ""
                : "; the CUDA backends come with the polyv-cuda module, which is not on the class path";
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected " + String.join(", ", known) + cudaHint + ")");
    }

    /** Short name, e.g. "cpu". */
    String name();

    /** A scope owning activation tensors; everything it allocated is freed by {@code close()}. */
    Workspace workspace();

    /**
     * A weight tensor from host bytes (little-endian, {@code dtype}, row-major {@code shape}). The CPU
     * backend wraps the segment without copying, so it must stay alive (mapped) as long as the weight.
     */
    Tensor weight(DType dtype, MemorySegment hostBytes, long... shape);

    /** Copies a tensor of this backend to a host float array. */
    float[] download(Tensor t);

    /** Copies host floats into an F32 tensor of this backend (sizes must match). */
    void upload(float[] values, Tensor dst);

    // ---------------------------------------------------------------- dense ops

    /** {@code out[n,m] = x[n,k] . w[m,k]^T (+ bias[m])}; {@code bias} may be null. */
    void matmul(Tensor x, Tensor w, Tensor bias, Tensor out);

    /** {@code out[n,d] = w[d] * x / sqrt(mean(x^2) + eps)} per row; {@code out} may be {@code x}. */
    void rmsNorm(Tensor x, Tensor w, float eps, Tensor out);

    /** {@code out = silu(gate) * up}, all {@code [n,d]}. */
    void siluMul(Tensor gate, Tensor up, Tensor out);

    /** {@code out = x * 0.5 * (1 + erf(x / sqrt 2))}, exact erf GELU. */
    void gelu(Tensor x, Tensor out);

    /** {@code out = a + b}, same shapes; {@code out} may alias either input. */
    void add(Tensor a, Tensor b, Tensor out);

    /** Sets every element of an F32 tensor to {@code value}. */
    void fill(Tensor t, float value);

    /**
     * {@code dst = src}, F32 tensors of the same shape (e.g. row views: a batch row into a session's KV
     * cache); they must not overlap. On the GPU a device-to-device copy on the stream (no host data).
     */
    void copy(Tensor src, Tensor dst);

    // ---------------------------------------------------------------- row movement

    /** {@code out[i] = table[ids[i]]} for an embedding table {@code [V,d]} of any dtype. */
    void embedding(Tensor table, int[] ids, Tensor out);

    /** {@code out[i] = src[index[i]]} (row gather), {@code out [index.length, d]}. */
    void gatherRows(Tensor src, int[] index, Tensor out);

    /** {@code out[index[i]] = src[i]} (row scatter); other rows of {@code out} are left unchanged. */
    void scatterRows(Tensor src, int[] index, Tensor out);

    /** {@code out[index[i]] += scale[i] * src[i]} in order of {@code i}. */
    void scatterAddScaled(Tensor src, int[] index, float[] scale, Tensor out);

    // ---------------------------------------------------------------- attention block pieces

    /**
     * Rotate-half rotary embedding, in place: for each row r and head h of {@code x [n, heads*hd]},
     * {@code x = x*cos[r] + rotate_half(x)*sin[r]} with {@code cos, sin [n, hd]} and
     * {@code rotate_half(x) = [-x[hd/2:], x[:hd/2]]}.
     */
    void rope(Tensor x, int heads, Tensor cos, Tensor sin);

    /**
     * Non-causal attention inside segments: rows {@code [cuSeqlens[s], cuSeqlens[s+1])} attend only to
     * each other. {@code q, k, v, out [n, heads*hd]}; scale {@code hd^-0.5}.
     */
    void attentionSegments(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int[] cuSeqlens);

    /**
     * Causal grouped-query attention against a cache: query row {@code i} of {@code q [n, heads*hd]}
     * sits at position {@code start + i} and attends to key rows {@code 0..start+i} of
     * {@code k, v [>= start+n, kvHeads*hd]}; query head {@code h} uses kv head
     * {@code h / (heads/kvHeads)}; scale {@code hd^-0.5}; {@code out [n, heads*hd]}.
     */
    void attentionCausal(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start);

    // ---------------------------------------------------------------- MoE routing

    /**
     * Router: {@code p = softmax(logits[n,M])} per row, then the {@code k} largest probabilities in
     * descending order, ties to the lower expert index; when {@code renormalize} they are divided by
     * their sum. Writes {@code idsOut[n*k]}, {@code weightsOut[n*k]} (row-major {@code [n,k]}).
     */
    void softmaxTopK(Tensor logits, int k, boolean renormalize, int[] idsOut, float[] weightsOut);

    // ---------------------------------------------------------------- MoE stages (docs/style.md 14)

    /**
     * MoE stage 1, the router: {@code logits[n,M] = x[n,hidden] . gate[M,hidden]^T}, then
     * {@link #softmaxTopK} into {@code idsOut, weightsOut [n*k]}. A backend may fuse the two (CUDA:
     * moe_router.cu); the default is exactly those two ops.
     */
    default void moeRoute(Tensor x, Tensor gate, int k, boolean renormalize, Tensor logits, int[] idsOut, float[] weightsOut) {
        matmul(x, gate, null, logits);
        softmaxTopK(logits, k, renormalize, idsOut, weightsOut);
    }

    /**
     * MoE stages 2-4, permutation -> experts -> weighted combine, for a routing {@code ids, weights [n*k]}
     * (row-major {@code [n,k]}, as {@link #moeRoute} writes them): {@code out[t] = sum over experts e
     * ascending, slots j with ids[t,j] == e, of weights[t,j] * down_e(silu(gate_e x[t]) * up_e x[t])}.
     * {@code x, out [n, hidden]} F32, {@code out} overwritten. The default is the stage-by-stage loop
     * ({@link MoeStages#expertLoop}); a backend may fuse it (CUDA: token_permutation.cu + expert_ffn.cu).
     */
    default void moeExperts(Tensor x, int k, int[] ids, float[] weights, ExpertWeights experts, Tensor out) {
        MoeStages.expertLoop(this, x, k, ids, weights, experts, out);
    }

    @Override
    default void close() {}
}

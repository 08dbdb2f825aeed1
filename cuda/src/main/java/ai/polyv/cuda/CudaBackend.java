package ai.polyv.cuda;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.backend.ReferenceOps;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.cuda.driver.Cublas;
import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.CudaGraph;
import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.CudaUnavailableException;
import ai.polyv.cuda.driver.DeviceBuffer;
import ai.polyv.cuda.driver.DeviceMemoryPool;
import ai.polyv.cuda.driver.DevicePointers;
import ai.polyv.cuda.driver.HostStaging;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.cuda.kernels.AttentionKernels;
import ai.polyv.cuda.kernels.ConvertKernel;
import ai.polyv.cuda.kernels.CopyRowsKernel;
import ai.polyv.cuda.kernels.DeviceTensor;
import ai.polyv.cuda.kernels.ElementwiseKernels;
import ai.polyv.cuda.kernels.EmbeddingKernel;
import ai.polyv.cuda.kernels.KernelLookup;
import ai.polyv.cuda.kernels.RmsNormKernel;
import ai.polyv.cuda.kernels.RopeKernel;
import ai.polyv.cuda.kernels.RoutingKernels;
import ai.polyv.cuda.kernels.ScatterAddScaledKernel;
import ai.polyv.cuda.kernels.WindowAttentionKernel;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.Shape;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA backend on one device: tensors in device memory (see {@link DevicePointers} for how a
 * device tensor is represented), kernels from the kernels jar ({@link KernelLibrary}), GEMMs by
 * cuBLAS, all work queued on one stream and synchronised only where a result comes back to the host
 * (downloads, routing). Workspaces take their memory from a {@link DeviceMemoryPool}, so a warm
 * decode step allocates nothing. Weights are uploaded once, when the model asks for them.
 *
 * <p>{@link Precision#F32} (the default; golden tolerance 1e-4) widens BF16/F16 weights to F32 at
 * upload and runs plain fp32 GEMMs. {@link Precision#BF16} keeps BF16/F16 matrices as stored and
 * rounds the GEMM's activation input to that type (fp32 accumulation, fp32 output): half the weight
 * memory and tensor-core speed, judged by the bf16 rule of the golden README.
 *
 * <p><b>Fused PolyV kernels</b> (kernels/src/main/cuda: moe_router, token_permutation, expert_ffn,
 * window_attention) read bf16 operands, so which path an op takes is a fixed rule, counted in
 * {@link #pathCounts()}:
 * <ul>
 *   <li>{@link Precision#F32}: never (the fp32 path is what meets the golden 1e-4 tolerance): the
 *       router GEMM + softmax_topk.cu, the MoE stage loop ({@code MoeStages.expertLoop}: row gather,
 *       cuBLAS fp32 SwiGLU per expert, scatter_add_scaled.cu), attention_segments.cu.</li>
 *   <li>{@link Precision#BF16}: {@link #moeRoute} runs {@code moe_router_v2} when the router weight is
 *       BF16, hidden % 8 == 0 and M <= 64; {@link #moeExperts} runs {@code moe_align_v2 ->
 *       expert_gate_up -> expert_down (router weight fused) -> moe_combine_v2} when every expert
 *       weight is BF16, hidden and ffn are multiples of 8 and M <= 64; {@link #attentionSegments} runs
 *       {@code window_attention_v2} when head_dim is 64, 80 or 128. Any other case takes the F32
 *       path above for that call (same results up to bf16 rounding).</li>
 * </ul>
 * Expert weights for the fused path are copied once into the stacked layout the kernel needs
 * ({@code [M, ffn, hidden]} gate/up, {@code [M, hidden, ffn]} down) on first use, beside the per-expert
 * copies the fallback path reads.
 *
 * <p>Host round trips left per decode step (why a whole decode step is not captured as a CUDA graph;
 * {@link #capture} captures the device-only stretches): the token id (embedding) and the RoPE cos/sin
 * tables (computed on the host) are uploaded; each MoE layer downloads its routing (ids and weights,
 * then the logits: three synchronising copies; the routing statistics, the trace and the training
 * loss read them; the experts do not: the fused path keeps the router's device ids); the logits row
 * comes back for sampling. The F32 MoE path also uploads each expert's row indices and weights.
 *
 * <p>Split by responsibility: {@link CudaDevice} (context, stream, pool, staging, kernel library,
 * cuBLAS, graph capture), {@link WeightResidency} (weights uploaded once, stacked experts),
 * {@link FusedMoe} (the fused MoE path and its rules); this class is the ops of {@link Backend}.
 *
 * <p>Not thread-safe: one thread drives a backend (the context is made current on it when it changes).
 */
public final class CudaBackend implements Backend {

    /** How matrices are stored and multiplied (see the class comment). */
    public enum Precision { F32, BF16 }

    private final Precision precision;
    private final CudaDevice dev;              // context, stream, pool, staging, kernels, cuBLAS
    private final WeightResidency residency;   // weights uploaded once, stacked experts
    private final FusedMoe fusedMoe;           // the fused PolyV MoE path (BF16)
    // the device's parts the ops use on every call
    private final CudaStream stream;
    private final DeviceMemoryPool pool;
    private final HostStaging staging;
    private final Cublas blas;

    private final RmsNormKernel rmsNorm;
    private final ElementwiseKernels elementwise;
    private final ConvertKernel convert;
    private final EmbeddingKernel embedding;
    private final CopyRowsKernel copyRows;
    private final ScatterAddScaledKernel scatterAdd;
    private final RopeKernel rope;
    private final AttentionKernels attention;
    private final RoutingKernels routing;
    private final WindowAttentionKernel windowAttention;

    private final Map<String, Long> pathCounts = new TreeMap<>();

    private CudaBackend(Precision precision, CudaDevice dev) {
        this.precision = precision;
        this.dev = dev;
        this.stream = dev.stream;
        this.pool = dev.pool;
        this.staging = dev.staging;
        this.blas = dev.blas;
        KernelLibrary kernels = dev.kernels;
        this.rmsNorm = new RmsNormKernel(kernels);
        this.elementwise = new ElementwiseKernels(kernels);
        this.convert = new ConvertKernel(kernels);
        this.embedding = new EmbeddingKernel(kernels);
        this.copyRows = new CopyRowsKernel(kernels);
        this.scatterAdd = new ScatterAddScaledKernel(kernels);
        this.rope = new RopeKernel(kernels);
        this.attention = new AttentionKernels(kernels);
        this.routing = new RoutingKernels(kernels);
        this.windowAttention = new WindowAttentionKernel(KernelLookup.of(kernels, WindowAttentionKernel.NAME));
        this.residency = new WeightResidency(dev, precision, convert);
        this.fusedMoe = new FusedMoe(dev, residency, convert);
    }

    /** The backend on device 0 in {@link Precision#F32}. */
    public static CudaBackend open() {
        return open(Precision.F32);
    }

    /** The backend on device 0; throws {@link CudaUnavailableException} with the reason when it cannot run. */
    public static CudaBackend open(Precision precision) {
        CudaContext ctx = CudaContext.open(0);
        CudaDevice dev;
        try {
            dev = new CudaDevice(ctx);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
        try {
            return new CudaBackend(precision, dev);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    public CudaContext context() {
        return dev.ctx;
    }

    public CudaStream stream() {
        return stream;
    }

    public DeviceMemoryPool pool() {
        return pool;
    }

    /** The cuBLAS handle on this backend's stream (benchmarks measure the GEMM ceiling with it). */
    public Cublas blas() {
        return blas;
    }

    public KernelLibrary kernels() {
        return dev.kernels;
    }

    public Precision precision() {
        return precision;
    }

    @Override
    public String name() {
        return precision == Precision.F32 ? "cuda" : "cuda-bf16";
    }

    /**
     * How many calls took each path so far, e.g. {@code moeRoute:moe_router_v2 -> 12},
     * {@code attentionSegments:attention_segments -> 3} (see the class comment for the rule).
     */
    public synchronized Map<String, Long> pathCounts() {
        return Map.copyOf(pathCounts);
    }

    private synchronized void count(String op, String path) {
        pathCounts.merge(op + ":" + path, 1L, Long::sum);
    }

    /**
     * Captures the ops {@code work} runs on this backend as a {@link CudaGraph} (nothing runs now;
     * {@link #launch(CudaGraph)} replays them). Only ops that touch nothing but existing device tensors
     * can be captured: matmul in F32, rmsNorm, siluMul, gelu, add, fill, copy, rope, attentionCausal. An op
     * that would allocate device memory or copy host data (index arrays, routing, downloads, bf16
     * casts) fails with IllegalStateException naming the reason, and the capture is discarded.
     */
    public CudaGraph capture(Runnable work) {
        return dev.capture(work);
    }

    /** Replays a captured graph on this backend's stream. */
    public void launch(CudaGraph graph) {
        dev.launch(graph);
    }

    /** Waits until every queued operation has finished. */
    public void synchronize() {
        dev.synchronize();
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Workspace workspace() {
        dev.bind();
        return new CudaWorkspace();
    }

    /** Device tensors of one scope; closing gives their blocks back to the pool. */
    private final class CudaWorkspace implements Workspace {
        private final List<DeviceBuffer> buffers = new ArrayList<>();
        private boolean closed;

        @Override
        public Tensor f32(long... shape) {
            if (closed) throw new IllegalStateException("workspace is closed");
            for (long d : shape) {
                if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
            }
            long n = Shape.numel(shape);
            DeviceBuffer b = pool.allocate(n * 4);
            buffers.add(b);
            if (n > 0) dev.memsetD32(b.address(), 0, n);
            return DevicePointers.tensor(DType.F32, b.address(), shape);
        }

        @Override
        public Backend backend() {
            return CudaBackend.this;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            for (int i = buffers.size() - 1; i >= 0; i--) buffers.get(i).close();
            buffers.clear();
        }
    }

    /**
     * Uploads a weight once. In {@link Precision#F32} a BF16/F16 tensor is widened to F32 on the device
     * (the returned tensor is F32). In {@link Precision#BF16} an F32 matrix (rank 2: every GEMM weight,
     * the router, the embedding table) is rounded to BF16 on the device, as PyTorch's
     * {@code model.to(bfloat16)} that the golden bf16 rule was measured with, so that an fp32 checkpoint
     * runs the bf16 kernels too; vectors (norms, biases) and BF16/F16 tensors keep their dtype. Freed
     * when the backend closes.
     */
    @Override
    public Tensor weight(DType dtype, MemorySegment hostBytes, long... shape) {
        return residency.upload(dtype, hostBytes, shape);
    }

    /**
     * A weight made on the device, never on the host (benchmarks at real size): uniform in
     * {@code [-halfWidth, halfWidth)} from a hash of {@code (seed, element)}, stored as {@code dtype} in
     * {@link Precision#BF16} and as F32 in {@link Precision#F32} (as {@link #weight} would widen it). Freed when
     * the backend closes.
     */
    public Tensor randomWeight(DType dtype, long seed, float halfWidth, long... shape) {
        return residency.random(dtype, seed, halfWidth, shape);
    }

    @Override
    public float[] download(Tensor t) {
        dev.bind();
        dev.requireDevice("download", t);
        long n = t.numel();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("download: tensor too large for a float[]: " + t);
        float[] out = new float[(int) n];
        if (n == 0) return out;
        if (t.dtype() == DType.F32) {
            staging.download(DevicePointers.address(t), MemorySegment.ofArray(out), 0, n * 4);
        } else {
            try (DeviceBuffer tmp = pool.allocate(n * 4)) {
                convert.toF32(stream, DevicePointers.address(t), t.dtype(), tmp.address(), n);
                staging.download(tmp.address(), MemorySegment.ofArray(out), 0, n * 4);
            }
        }
        return out;
    }

    @Override
    public void upload(float[] values, Tensor dst) {
        dev.bind();
        dev.requireDevice("upload", dst);
        if (dst.dtype() != DType.F32 || values.length != dst.numel()) {
            throw new IllegalArgumentException("upload of " + values.length + " floats into " + dst);
        }
        if (values.length > 0) staging.upload(MemorySegment.ofArray(values), 0, DevicePointers.address(dst), 4L * values.length);
    }

    // ---------------------------------------------------------------- dense ops

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        dev.bind();
        dev.requireDevice("matmul", x, w, bias, out);
        if (x.dtype() != DType.F32 || out.dtype() != DType.F32 || (bias != null && bias.dtype() != DType.F32)) {
            throw new UnsupportedOperationException("matmul: activations and bias must be F32, got x " + x + ", out " + out + ", bias " + bias);
        }
        int n = x.rows(), k = x.cols(), m = w.rows();
        if (w.cols() != k) throw new IllegalArgumentException("matmul: weight must be [" + m + ", " + k + "], got " + w);
        if (out.rows() != n || out.cols() != m) throw new IllegalArgumentException("matmul: out must be [" + n + ", " + m + "], got " + out);
        if (CudaDevice.overlap(x, out)) throw new IllegalArgumentException("matmul: out " + out + " overlaps the input " + x);
        if (n == 0 || m == 0) return;
        if (k == 0) {
            dev.memsetD32(DevicePointers.address(out), 0, (long) n * m);
        } else if (w.dtype() == DType.F32) {
            blas.gemmRowMajor(DevicePointers.address(x), DevicePointers.address(w), Cublas.R_32F, DevicePointers.address(out), n, k, m);
        } else {
            // bf16 / f16 matrix (Precision.BF16): round the activation to the weight's type, fp32 accumulate
            try (DeviceBuffer xs = pool.allocate(2L * n * k)) {
                convert.fromF32(stream, DevicePointers.address(x), w.dtype(), xs.address(), (long) n * k);
                blas.gemmRowMajor(xs.address(), DevicePointers.address(w), w.dtype() == DType.BF16 ? Cublas.R_16BF : Cublas.R_16F,
                        DevicePointers.address(out), n, k, m);
            }
        }
        if (bias != null) elementwise.biasAdd(stream, out, bias);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        dev.bind();
        dev.requireDevice("rmsNorm", x, w, out);
        rmsNorm.launch(stream, x, w, eps, out);
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        dev.bind();
        dev.requireDevice("siluMul", gate, up, out);
        elementwise.siluMul(stream, gate, up, out);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        dev.bind();
        dev.requireDevice("gelu", x, out);
        elementwise.gelu(stream, x, out);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        dev.bind();
        dev.requireDevice("add", a, b, out);
        elementwise.add(stream, a, b, out);
    }

    @Override
    public void fill(Tensor t, float value) {
        dev.bind();
        dev.requireDevice("fill", t);
        if (t.dtype() != DType.F32) throw new UnsupportedOperationException("fill: tensor must be F32, got " + t);
        if (t.numel() > 0) dev.memsetD32(DevicePointers.address(t), Float.floatToRawIntBits(value), t.numel());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        dev.bind();
        dev.requireDevice("copy", src, dst);
        if (src.dtype() != DType.F32 || dst.dtype() != DType.F32) throw new UnsupportedOperationException("copy: tensors must be F32, got " + src + ", " + dst);
        if (src.rows() != dst.rows() || src.cols() != dst.cols()) throw new IllegalArgumentException("copy: dst " + dst + " must have the shape of src " + src);
        if (CudaDevice.overlap(src, dst)) throw new IllegalArgumentException("copy: dst " + dst + " overlaps src " + src);
        if (src.numel() == 0) return;
        CudaException.check(JCudaDriver.cuMemcpyDtoDAsync(DevicePointers.of(DevicePointers.address(dst)), DevicePointers.of(DevicePointers.address(src)),
                4L * src.numel(), stream.cu()), "cuMemcpyDtoDAsync(copy)");
    }

    // ---------------------------------------------------------------- row movement

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        dev.bind();
        dev.requireDevice("embedding", table, out);
        int vocab = table.rows();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("embedding: id " + ids[i] + " at position " + i + " outside vocabulary [0, " + vocab + ")");
            }
        }
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            embedding.launch(stream, table, ids.length == 0 ? 0 : dev.deviceInts(ids, scope), ids.length, out);
        } finally {
            CudaDevice.release(scope);
        }
    }

    @Override
    public void gatherRows(Tensor src, int[] index, Tensor out) {
        dev.bind();
        dev.requireDevice("gatherRows", src, out);
        if (out.rows() != index.length || out.cols() != src.cols()) {
            throw new IllegalArgumentException("gatherRows: out must be [" + index.length + ", " + src.cols() + "], got " + out);
        }
        if (CudaDevice.overlap(src, out)) throw new IllegalArgumentException("gatherRows: out " + out + " overlaps src " + src);
        ReferenceOps.requireRows("gatherRows", index, src.rows());
        if (index.length == 0) return;
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            copyRows.launch(stream, src, dev.deviceInts(index, scope), out, 0, index.length);
        } finally {
            CudaDevice.release(scope);
        }
    }

    /** Rows written more than once keep the last write, as the CPU backend's in-order loop does. */
    @Override
    public void scatterRows(Tensor src, int[] index, Tensor out) {
        dev.bind();
        dev.requireDevice("scatterRows", src, out);
        if (src.rows() != index.length || src.cols() != out.cols()) {
            throw new IllegalArgumentException("scatterRows: src must be [" + index.length + ", " + out.cols() + "], got " + src);
        }
        if (CudaDevice.overlap(src, out)) throw new IllegalArgumentException("scatterRows: src " + src + " overlaps out " + out);
        ReferenceOps.requireRows("scatterRows", index, out.rows());
        if (index.length == 0) return;
        RowPlans.Copy plan = RowPlans.scatter(index, out.rows());
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            copyRows.launch(stream, src, plan.srcRows() == null ? 0 : dev.deviceInts(plan.srcRows(), scope), out,
                    dev.deviceInts(plan.dstRows(), scope), plan.count());
        } finally {
            CudaDevice.release(scope);
        }
    }

    @Override
    public void scatterAddScaled(Tensor src, int[] index, float[] scale, Tensor out) {
        dev.bind();
        dev.requireDevice("scatterAddScaled", src, out);
        if (scale.length != index.length) throw new IllegalArgumentException("scatterAddScaled: " + index.length + " rows but " + scale.length + " scales");
        if (CudaDevice.overlap(src, out)) throw new IllegalArgumentException("scatterAddScaled: src " + src + " overlaps out " + out);
        ReferenceOps.requireRows("scatterAddScaled", index, out.rows());
        if (index.length == 0) {
            if (src.rows() != 0) throw new IllegalArgumentException("scatterAddScaled: src must be [0, " + out.cols() + "], got " + src);
            return;
        }
        boolean distinct = RowPlans.distinct(index, out.rows());
        // In the MoE layer this op is the weighted combine of the F32 stage loop; in Precision.BF16 the
        // fused moeExperts (token_permutation.cu + expert_ffn.cu) replaces the whole loop.
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            scatterAdd.launch(stream, src, dev.deviceInts(index, scope), dev.deviceFloats(scale, scope), out, index.length, distinct);
        } finally {
            CudaDevice.release(scope);
        }
    }

    // ---------------------------------------------------------------- attention block pieces

    @Override
    public void rope(Tensor x, int heads, Tensor cos, Tensor sin) {
        dev.bind();
        dev.requireDevice("rope", x, cos, sin);
        rope.launch(stream, x, heads, cos, sin);
    }

    /**
     * {@link Precision#BF16} with head_dim 64, 80 or 128: window_attention_v2 (the varlen flash kernel of
     * the vision tower; q, k, v rounded to bf16, fp32 softmax and output). Otherwise the simple kernel
     * attention_segments.cu (fp32). See the class comment.
     */
    @Override
    public void attentionSegments(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int[] cuSeqlens) {
        dev.bind();
        dev.requireDevice("attentionSegments", q, k, v, out);
        int n = q.rows();
        RowPlans.KeyRanges keys = RowPlans.segments(cuSeqlens, n);
        if (n == 0) return;
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            if (usesWindowAttention(q, heads)) {
                long width = q.cols(), count = n * width;
                DeviceTensor[] bf = new DeviceTensor[3];
                Tensor[] in = {q, k, v};
                for (int i = 0; i < 3; i++) {
                    if (in[i].dtype() != DType.F32 || in[i].numel() != count) {
                        throw new IllegalArgumentException("attentionSegments: q, k, v must be F32 [" + n + ", " + width + "], got " + in[i]);
                    }
                    DeviceBuffer b = pool.allocate(2 * count);
                    scope.add(b);
                    convert.fromF32(stream, DevicePointers.address(in[i]), DType.BF16, b.address(), count);
                    bf[i] = DeviceTensor.at("qkv".substring(i, i + 1), b.address(), DType.BF16, n, width);
                }
                DeviceTensor cu = DeviceTensor.at("cu_seqlens", dev.deviceInts(cuSeqlens, scope), DType.I32, cuSeqlens.length);
                windowAttention.launch(stream.cu(), bf[0], bf[1], bf[2], cuSeqlens, cu, heads, DeviceTensor.of("out", out));
                count("attentionSegments", "window_attention_v2");
            } else {
                attention.segments(stream, q, k, v, out, heads, dev.deviceInts(keys.start(), scope), dev.deviceInts(keys.end(), scope));
                count("attentionSegments", "attention_segments");
            }
        } finally {
            CudaDevice.release(scope);
        }
    }

    /** The rule for the fused vision attention (class comment). */
    public boolean usesWindowAttention(Tensor q, int heads) {
        return windowAttentionApplies(precision, q.cols(), heads);
    }

    /** window_attention_v2 runs for {@code [n, width]} q with {@code heads} heads (class comment). */
    public static boolean windowAttentionApplies(Precision precision, long width, int heads) {
        return precision == Precision.BF16 && heads > 0 && width % heads == 0 && WindowAttentionKernel.FAST_HEAD_DIMS.contains((int) (width / heads));
    }

    @Override
    public void attentionCausal(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start) {
        dev.bind();
        dev.requireDevice("attentionCausal", q, k, v, out);
        if (q.rows() == 0) return;
        attention.causal(stream, q, k, v, out, heads, kvHeads, start);
    }

    // ---------------------------------------------------------------- MoE routing

    /**
     * The simple kernel (softmax_topk.cu) over logits already computed by the router GEMM (the F32
     * path of {@link #moeRoute}). Synchronises: the routing steers host control flow.
     */
    @Override
    public void softmaxTopK(Tensor logits, int k, boolean renormalize, int[] idsOut, float[] weightsOut) {
        dev.bind();
        dev.requireDevice("softmaxTopK", logits);
        int n = logits.rows();
        if (idsOut.length < (long) n * k || weightsOut.length < (long) n * k) {
            throw new IllegalArgumentException("softmaxTopK: outputs must hold " + n + " x " + k + " values");
        }
        if (n == 0) return;
        try (DeviceBuffer ids = pool.allocate(4L * n * k); DeviceBuffer w = pool.allocate(4L * n * k)) {
            routing.softmaxTopK(stream, logits, k, renormalize, ids.address(), w.address());
            staging.download(ids.address(), MemorySegment.ofArray(idsOut), 0, 4L * n * k);
            staging.download(w.address(), MemorySegment.ofArray(weightsOut), 0, 4L * n * k);
        }
    }

    // ---------------------------------------------------------------- MoE stages (fused)

    /** The rule for the fused router (class comment). */
    public boolean usesFusedRouter(Tensor x, Tensor gate, int k) {
        return fusedRouterApplies(precision, x.dtype(), gate.dtype(), x.rows(), x.cols(), gate.rows(), k);
    }

    /** moe_router_v2 runs for {@code tokens x hidden} activations, an {@code [experts, hidden]} router weight and top-{@code k}. */
    public static boolean fusedRouterApplies(Precision precision, DType x, DType gate, int tokens, int hidden, int experts, int k) {
        return FusedMoe.routerApplies(precision, x, gate, tokens, hidden, experts, k);
    }

    /**
     * Stage 1. {@link Precision#BF16} (see {@link #usesFusedRouter}): moe_router_v2, router GEMM (fp32
     * accumulation of x times the bf16 weight) + softmax + top-k in one kernel, logits written; the
     * device ids and weights stay for {@link #moeExperts}. Otherwise the router GEMM + softmax_topk.cu.
     * Synchronises once (the routing comes back to the host).
     */
    @Override
    public void moeRoute(Tensor x, Tensor gate, int k, boolean renormalize, Tensor logits, int[] idsOut, float[] weightsOut) {
        dev.bind();
        dev.requireDevice("moeRoute", x, gate, logits);
        if (!usesFusedRouter(x, gate, k)) {
            Backend.super.moeRoute(x, gate, k, renormalize, logits, idsOut, weightsOut);
            count("moeRoute", "matmul+softmax_topk");
            return;
        }
        fusedMoe.route(x, gate, k, renormalize, logits, idsOut, weightsOut);
        count("moeRoute", "moe_router_v2");
    }

    /** The rule for the fused experts (class comment). */
    public boolean usesFusedExperts(Tensor x, ExpertWeights w) {
        return fusedExpertsApply(precision, x.dtype(), x.rows(), w);
    }

    /** token_permutation + expert_ffn run for {@code tokens} F32 rows and these experts (class comment). */
    public static boolean fusedExpertsApply(Precision precision, DType x, int tokens, ExpertWeights w) {
        return FusedMoe.expertsApply(precision, x, tokens, w);
    }

    /**
     * Stages 2-4. {@link Precision#BF16} (see {@link #usesFusedExperts}): permutation
     * ({@code moe_align_v2}: offsets, token and weight of each entry, inverse map) -> experts
     * ({@code expert_gate_up} reading the token rows of x in bf16 through the permutation, then
     * {@code expert_down} with the router weight fused) -> combine ({@code moe_combine_v2}, fixed
     * order, no atomics). No host round trip: the routing is the router's device copy when
     * {@code ids, weights} are what {@link #moeRoute} returned, else uploaded. Otherwise the stage loop.
     */
    @Override
    public void moeExperts(Tensor x, int k, int[] ids, float[] weights, ExpertWeights w, Tensor out) {
        dev.bind();
        dev.requireDevice("moeExperts", x, out);
        if (!usesFusedExperts(x, w)) {
            Backend.super.moeExperts(x, k, ids, weights, w, out);
            count("moeExperts", "stage_loop");
            return;
        }
        count("moeExperts.routing", fusedMoe.experts(x, k, ids, weights, w, out));
        count("moeExperts", "token_permutation+expert_ffn");
    }

    /** Greedy choice per row of {@code logits [rows, vocab]}: the index of the largest value, ties to the lower index. */
    public int[] argmax(Tensor logits) {
        dev.bind();
        dev.requireDevice("argmax", logits);
        int rows = logits.rows();
        int[] out = new int[rows];
        if (rows == 0) return out;
        try (DeviceBuffer ids = pool.allocate(4L * rows)) {
            routing.argmax(stream, logits, ids.address());
            staging.download(ids.address(), MemorySegment.ofArray(out), 0, 4L * rows);
        }
        return out;
    }

    @Override
    public void close() {
        fusedMoe.close();   // hands its blocks back to the pool; dev.close() binds the context and frees the device
        residency.clear();
        dev.close();
    }
}

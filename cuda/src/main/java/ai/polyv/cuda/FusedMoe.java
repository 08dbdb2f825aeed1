package ai.polyv.cuda;

import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.cuda.CudaBackend.Precision;
import ai.polyv.cuda.driver.DeviceBuffer;
import ai.polyv.cuda.driver.DevicePointers;
import ai.polyv.cuda.kernels.ConvertKernel;
import ai.polyv.cuda.kernels.DeviceTensor;
import ai.polyv.cuda.kernels.ExpertFfnKernel;
import ai.polyv.cuda.kernels.KernelLookup;
import ai.polyv.cuda.kernels.MoeRouterKernel;
import ai.polyv.cuda.kernels.TokenPermutationKernel;
import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fused PolyV MoE path of the BF16 backend and the rules that choose it (see {@link CudaBackend}'s
 * class comment): {@code moe_router_v2} for the router, then {@code moe_align_v2 -> expert_gate_up ->
 * expert_down -> moe_combine_v2} for the experts, reusing the router's device routing when the experts
 * are handed the same routing (no host round trip between the stages).
 */
final class FusedMoe implements AutoCloseable {

    private final CudaDevice dev;
    private final WeightResidency residency;
    private final ConvertKernel convert;
    private final MoeRouterKernel fusedRouter;
    private final TokenPermutationKernel permutation;
    private final ExpertFfnKernel expertFfn;
    /** The device copy of the last fused routing, reused by {@link #experts} when it is handed the same routing. */
    private DeviceRouting lastRouting;

    FusedMoe(CudaDevice dev, WeightResidency residency, ConvertKernel convert) {
        this.dev = dev;
        this.residency = residency;
        this.convert = convert;
        this.fusedRouter = new MoeRouterKernel(KernelLookup.of(dev.kernels, MoeRouterKernel.NAME));
        this.permutation = new TokenPermutationKernel(KernelLookup.of(dev.kernels, TokenPermutationKernel.NAME));
        this.expertFfn = new ExpertFfnKernel(KernelLookup.of(dev.kernels, ExpertFfnKernel.NAME));
    }

    /** A routing on the device ({@code ids, weights [n, k]}) and the host copy it was downloaded to. */
    private record DeviceRouting(DeviceBuffer ids, DeviceBuffer weights, int[] hostIds, float[] hostWeights) {
        void close() {
            ids.close();
            weights.close();
        }
    }

    /** moe_router_v2 runs for {@code tokens x hidden} activations, an {@code [experts, hidden]} router weight and top-{@code k}. */
    static boolean routerApplies(Precision precision, DType x, DType gate, int tokens, int hidden, int experts, int k) {
        return precision == Precision.BF16 && gate == DType.BF16 && x == DType.F32 && hidden % 8 == 0
                && experts <= MoeRouterKernel.MAX_EXPERTS && k >= 1 && k <= experts && tokens > 0;
    }

    /**
     * The fused router (the caller checked {@link #routerApplies}): router GEMM + softmax + top-k in one
     * kernel, logits written, the routing downloaded into {@code idsOut, weightsOut} and kept on the device.
     */
    void route(Tensor x, Tensor gate, int k, boolean renormalize, Tensor logits, int[] idsOut, float[] weightsOut) {
        int n = x.rows(), m = gate.rows();
        if (idsOut.length != n * k || weightsOut.length != n * k) {
            throw new IllegalArgumentException("moeRoute: outputs must hold " + n + " x " + k + " values, got " + idsOut.length + " and " + weightsOut.length);
        }
        if (logits.dtype() != DType.F32 || logits.rows() != n || logits.cols() != m) {
            throw new IllegalArgumentException("moeRoute: logits must be F32 [" + n + ", " + m + "], got " + logits);
        }
        dropRouting();
        DeviceBuffer ids = dev.pool.allocate(4L * n * k), w = dev.pool.allocate(4L * n * k);
        int blocks = MoeRouterKernel.maxPartialBlocks();
        try (DeviceBuffer partials = dev.pool.allocate(4L * blocks * 2 * m); DeviceBuffer counter = dev.pool.allocate(4);
             DeviceBuffer stats = dev.pool.allocate(4L * 2 * m)) {
            dev.memsetD32(counter.address(), 0, 1);       // the kernel's block counter starts (and ends) at zero
            fusedRouter.launch(dev.stream.cu(), DeviceTensor.of("x", x), DeviceTensor.of("router", gate), DeviceTensor.of("logits", logits),
                    DeviceTensor.at("ids", ids.address(), DType.I32, n, k), DeviceTensor.at("weights", w.address(), DType.F32, n, k),
                    DeviceTensor.at("partials", partials.address(), DType.F32, blocks, 2, m),
                    DeviceTensor.at("counter", counter.address(), DType.I32, 1),
                    DeviceTensor.at("stats", stats.address(), DType.F32, 2, m), k, renormalize);
            dev.staging.download(ids.address(), MemorySegment.ofArray(idsOut), 0, 4L * n * k);
            dev.staging.download(w.address(), MemorySegment.ofArray(weightsOut), 0, 4L * n * k);
        } catch (RuntimeException e) {
            ids.close();
            w.close();
            throw e;
        }
        lastRouting = new DeviceRouting(ids, w, idsOut.clone(), weightsOut.clone());
    }

    void dropRouting() {
        if (lastRouting != null) lastRouting.close();   // stream order makes the reuse safe
        lastRouting = null;
    }

    /** token_permutation + expert_ffn run for {@code tokens} F32 rows and these experts (class comment). */
    static boolean expertsApply(Precision precision, DType x, int tokens, ExpertWeights w) {
        if (precision != Precision.BF16 || x != DType.F32 || tokens == 0) return false;
        if (w.numExperts() > ExpertFfnKernel.MAX_EXPERTS || w.hidden() % 8 != 0 || w.ffn() % 8 != 0) return false;
        for (int e = 0; e < w.numExperts(); e++) {
            if (w.gate().get(e).dtype() != DType.BF16 || w.up().get(e).dtype() != DType.BF16 || w.down().get(e).dtype() != DType.BF16) return false;
        }
        return true;
    }

    /**
     * The fused experts (the caller checked {@link #expertsApply}): permutation, gate/up, down with the
     * router weight as row scale, combine in slot order. Returns where the routing came from
     * ({@code router_device_copy} or {@code uploaded}).
     */
    String experts(Tensor x, int k, int[] ids, float[] weights, ExpertWeights w, Tensor out) {
        int n = x.rows(), hidden = x.cols(), m = w.numExperts(), ffn = w.ffn();
        if (hidden != w.hidden()) throw new IllegalArgumentException("moeExperts: x " + x + " must have " + w.hidden() + " columns");
        if (out.dtype() != DType.F32 || out.rows() != n || out.cols() != hidden) {
            throw new IllegalArgumentException("moeExperts: out must be F32 [" + n + ", " + hidden + "], got " + out);
        }
        if (CudaDevice.overlap(x, out)) throw new IllegalArgumentException("moeExperts: out " + out + " overlaps x " + x);
        if (ids.length != n * k || weights.length != n * k) {
            throw new IllegalArgumentException("moeExperts: routing of " + ids.length + " ids and " + weights.length + " weights for " + n + " tokens x k=" + k);
        }
        if (k < 1 || k > m) throw new IllegalArgumentException("moeExperts: k=" + k + " not in [1, " + m + "]");
        int entries = n * k;
        WeightResidency.StackedExperts sw = residency.stacked(w);
        String routingPath;
        List<DeviceBuffer> scope = new ArrayList<>();
        try {
            long idsAt, wAt;
            if (lastRouting != null && Arrays.equals(ids, lastRouting.hostIds()) && Arrays.equals(weights, lastRouting.hostWeights())) {
                idsAt = lastRouting.ids().address();
                wAt = lastRouting.weights().address();
                routingPath = "router_device_copy";
            } else {
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] < 0 || ids[i] >= m) throw new IllegalArgumentException("moeExperts: expert id " + ids[i] + " at " + i + " outside [0, " + m + ")");
                }
                idsAt = dev.deviceInts(ids, scope);
                wAt = dev.deviceFloats(weights, scope);
                routingPath = "uploaded";
            }
            DeviceTensor idsT = DeviceTensor.at("ids", idsAt, DType.I32, n, k), wT = DeviceTensor.at("weights", wAt, DType.F32, n, k);
            DeviceTensor offsets = dev.scratch(scope, "offsets", DType.I32, m + 1), permToken = dev.scratch(scope, "perm_token", DType.I32, entries);
            DeviceTensor permWeight = dev.scratch(scope, "perm_weight", DType.F32, entries), pos = dev.scratch(scope, "pos", DType.I32, n, k);
            DeviceTensor badIds = dev.scratch(scope, "bad_ids", DType.I32, 1);
            permutation.align(dev.stream.cu(), idsT, wT, offsets, permToken, permWeight, pos, badIds, m);          // stage 2: permutation
            DeviceTensor xb = dev.scratch(scope, "x_bf16", DType.BF16, n, hidden);                            // [n, hidden]
            convert.fromF32(dev.stream, DevicePointers.address(x), DType.BF16, xb.byteOffset() /* the address, see DeviceTensor.at */, (long) n * hidden);
            DeviceTensor h = dev.scratch(scope, "h", DType.BF16, entries, ffn);                               // [entries, ffn]
            DeviceTensor y = dev.scratch(scope, "y", DType.F32, entries, hidden);                             // [entries, hidden]
            expertFfn.gateUp(dev.stream.cu(), xb, permToken, sw.gate(), sw.up(), offsets, h, null);                 // stage 3: experts
            // stage 4, weight-and-combine: the router weight is applied explicitly as expert_down's row scale
            // (permWeight, one per entry), then moe_combine_v2 sums each token's k rows in slot order (w = null)
            expertFfn.down(dev.stream.cu(), h, sw.down(), offsets, permWeight, y, null);
            permutation.combine(dev.stream.cu(), y, pos, null, DeviceTensor.of("out", out));
        } finally {
            CudaDevice.release(scope);
        }
        return routingPath;
    }

    @Override
    public void close() {
        dropRouting();
    }
}

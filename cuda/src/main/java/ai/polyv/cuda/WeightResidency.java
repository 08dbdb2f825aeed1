package ai.polyv.cuda;

import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.cuda.CudaBackend.Precision;
import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.DeviceBuffer;
import ai.polyv.cuda.driver.DevicePointers;
import ai.polyv.cuda.kernels.ConvertKernel;
import ai.polyv.cuda.kernels.DeviceTensor;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.Shape;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.JCudaDriver;

/**
 * The weights on the device for the backend's lifetime: uploaded once in the backend's {@link Precision}
 * (widened to F32, or matrices narrowed to BF16), made on the device for real-size benchmarks, and the
 * stacked expert layout the fused kernels read, copied once per MoE layer. Every block is a dedicated
 * pool block, freed when the pool closes.
 */
final class WeightResidency {

    private final CudaDevice dev;
    private final Precision precision;
    private final ConvertKernel convert;
    private final List<DeviceBuffer> weights = new ArrayList<>();
    /** Stacked bf16 expert weights of each MoE layer, keyed by the layer's first gate weight. */
    private final Map<Tensor, StackedExperts> stacked = new IdentityHashMap<>();

    WeightResidency(CudaDevice dev, Precision precision, ConvertKernel convert) {
        this.dev = dev;
        this.precision = precision;
        this.convert = convert;
    }

    /**
     * Uploads a weight once. In {@link Precision#F32} a BF16/F16 tensor is widened to F32 on the device
     * (the returned tensor is F32). In {@link Precision#BF16} an F32 matrix (rank 2: every GEMM weight,
     * the router, the embedding table) is rounded to BF16 on the device, as PyTorch's
     * {@code model.to(bfloat16)} that the golden bf16 rule was measured with, so that an fp32 checkpoint
     * runs the bf16 kernels too; vectors (norms, biases) and BF16/F16 tensors keep their dtype. Freed
     * when the backend closes.
     */
    Tensor upload(DType dtype, MemorySegment hostBytes, long... shape) {
        dev.bind();
        Tensor host = new Tensor(dtype, hostBytes, shape);   // checks the byte size against the shape
        long n = host.numel();
        if (precision == Precision.BF16 && dtype == DType.F32 && shape.length == 2 && n > 0) {
            DeviceBuffer narrow = dev.pool.allocateDedicated(n * 2);
            weights.add(narrow);
            try (DeviceBuffer raw = dev.pool.allocate(hostBytes.byteSize())) {
                dev.staging.upload(hostBytes, 0, raw.address(), hostBytes.byteSize());
                convert.fromF32(dev.stream, raw.address(), DType.BF16, narrow.address(), n);
            }
            return DevicePointers.tensor(DType.BF16, narrow.address(), shape);
        }
        if (dtype == DType.F32 || precision == Precision.BF16) {
            DeviceBuffer b = dev.pool.allocateDedicated(hostBytes.byteSize());
            weights.add(b);
            dev.staging.upload(hostBytes, 0, b.address(), hostBytes.byteSize());
            return DevicePointers.tensor(dtype, b.address(), shape);
        }
        DeviceBuffer wide = dev.pool.allocateDedicated(n * 4);
        weights.add(wide);
        try (DeviceBuffer raw = dev.pool.allocate(hostBytes.byteSize())) {
            dev.staging.upload(hostBytes, 0, raw.address(), hostBytes.byteSize());
            convert.toF32(dev.stream, raw.address(), dtype, wide.address(), n);
        }
        return DevicePointers.tensor(DType.F32, wide.address(), shape);
    }

    /**
     * A weight made on the device, never on the host (benchmarks at real size): uniform in
     * {@code [-halfWidth, halfWidth)} from a hash of {@code (seed, element)}, stored as {@code dtype} in
     * {@link Precision#BF16} and as F32 in {@link Precision#F32} (as {@link #upload} would widen it). Freed when
     * the backend closes.
     */
    Tensor random(DType dtype, long seed, float halfWidth, long... shape) {
        dev.bind();
        if (dtype == DType.F16) throw new IllegalArgumentException("randomWeight: dtype must be F32 or BF16, got F16");
        DType stored = precision == Precision.F32 ? DType.F32 : dtype;
        long n = Shape.numel(shape);
        DeviceBuffer b = dev.pool.allocateDedicated(Math.max(1, n * stored.byteSize()));
        weights.add(b);
        if (n > 0) convert.randomUniform(dev.stream, b.address(), stored, n, seed, halfWidth);
        return DevicePointers.tensor(stored, b.address(), shape);
    }

    /** One MoE layer's experts in the stacked layout of expert_ffn.cu. */
    record StackedExperts(DeviceTensor gate, DeviceTensor up, DeviceTensor down) {}

    /** Copies the per-expert bf16 weights into {@code [M, ffn, hidden]} gate/up and {@code [M, hidden, ffn]} down, once per layer. */
    StackedExperts stacked(ExpertWeights w) {
        StackedExperts s = stacked.get(w.gate().get(0));
        if (s != null) return s;
        int m = w.numExperts();
        long each = 2L * w.ffn() * w.hidden();
        DeviceTensor[] out = new DeviceTensor[3];
        String[] names = {"gate_stacked", "up_stacked", "down_stacked"};
        List<List<Tensor>> parts = List.of(w.gate(), w.up(), w.down());
        for (int i = 0; i < 3; i++) {
            DeviceBuffer b = dev.pool.allocateDedicated(m * each);
            weights.add(b);
            for (int e = 0; e < m; e++) {
                Tensor t = parts.get(i).get(e);
                dev.requireDevice("moeExperts", t);
                CudaException.check(JCudaDriver.cuMemcpyDtoDAsync(DevicePointers.of(b.address() + e * each), DevicePointers.of(DevicePointers.address(t)),
                        each, dev.stream.cu()), "cuMemcpyDtoDAsync(" + names[i] + ")");
            }
            out[i] = i < 2 ? DeviceTensor.at(names[i], b.address(), DType.BF16, m, w.ffn(), w.hidden())
                    : DeviceTensor.at(names[i], b.address(), DType.BF16, m, w.hidden(), w.ffn());
        }
        s = new StackedExperts(out[0], out[1], out[2]);
        stacked.put(w.gate().get(0), s);
        return s;
    }

    /** Forgets the weights (their memory goes with the pool). */
    void clear() {
        weights.clear();
        stacked.clear();
    }
}

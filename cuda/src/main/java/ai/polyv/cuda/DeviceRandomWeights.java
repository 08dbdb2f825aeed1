package ai.polyv.cuda;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.demo.DemoWeights;
import ai.polyv.core.model.WeightSource;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Random BF16 weights for every tensor of a config, made on the device by the {@code random_uniform} kernel
 * ({@link CudaBackend#randomWeight}): the matrices (15+ GB at PolyV-7B size) never exist on the host. 1-D
 * tensors (norms 1, biases 0: a few MB) are made on the host as usual. Matrices are uniform with standard
 * deviation {@link DemoWeights#STD}; the values mean nothing (speed benchmarks only).
 *
 * <p>{@link #get} of a matrix returns a {@link WeightSource.Raw} with the right name, dtype and shape but an
 * empty {@link MemorySegment} (there are no host bytes); only {@link #toBackend} on this backend turns it into
 * a tensor.
 */
public final class DeviceRandomWeights implements WeightSource, AutoCloseable {
    private final CudaBackend cuda;
    private final long seed;
    private final float halfWidth = (float) (DemoWeights.STD * Math.sqrt(3));   // uniform [-a, a) has std a / sqrt 3
    private final Arena arena = Arena.ofShared();
    private final Map<String, DemoWeights.TensorSpec> specs = new LinkedHashMap<>();
    private long deviceBytes;

    public DeviceRandomWeights(PolyVConfig config, CudaBackend cuda, long seed) {
        this.cuda = cuda;
        this.seed = seed;
        for (DemoWeights.TensorSpec t : DemoWeights.tensors(config)) specs.put(t.name(), t);
    }

    @Override
    public boolean has(String name) {
        return specs.containsKey(name);
    }

    @Override
    public Raw get(String name) {
        DemoWeights.TensorSpec t = specs.get(name);
        if (t == null) throw new IllegalArgumentException("device random weights have no tensor '" + name + "'");
        long[] shape = t.shape();
        if (shape.length >= 2) return new Raw(name, DType.BF16, shape, MemorySegment.NULL);
        MemorySegment data = arena.allocate(2 * shape[0], 64);     // BF16 vector: 1.0 = 0x3F80, 0.0 = 0
        short v = switch (t.init()) {
            case ONES -> (short) 0x3F80;
            case ZEROS -> 0;
            case NORMAL -> throw new IllegalStateException("device random weights: 1-D tensor '" + name + "' wants random values");
        };
        for (long i = 0; i < shape[0]; i++) data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, v);
        return new Raw(name, DType.BF16, shape, data);
    }

    @Override
    public Tensor toBackend(Backend backend, Raw raw, long... shape) {
        if (backend != cuda) throw new IllegalArgumentException("device random weights live on " + cuda.name() + ", not on " + backend.name());
        if (raw.data().byteSize() > 0) return backend.weight(raw.dtype(), raw.data(), shape);
        DemoWeights.TensorSpec t = specs.get(raw.name());
        Tensor w = t.init() == DemoWeights.Init.NORMAL
                ? cuda.randomWeight(DType.BF16, tensorSeed(seed, raw.name()), halfWidth, shape)
                : cuda.randomWeight(DType.BF16, 0, 0f, shape);      // zeros (no config has ones matrices)
        deviceBytes += w.numel() * w.dtype().byteSize();
        return w;
    }

    /** Bytes of the matrices made on the device so far. */
    public long deviceBytes() {
        return deviceBytes;
    }

    /** The per-tensor seed: the weights do not depend on the order tensors are made in. */
    static long tensorSeed(long seed, String name) {
        long h = seed;
        for (int i = 0; i < name.length(); i++) h = h * 1_000_003L + name.charAt(i);
        return h;
    }

    /**
     * Element {@code i} of {@code random_uniform(seed, halfWidth)} as the kernel computes it in float32
     * (convert.cu, before rounding to BF16): splitmix64 of {@code seed * 0x9E3779B97F4A7C15 + i}, top 24 bits.
     */
    static float value(long seed, long i, float halfWidth) {
        long z = seed * 0x9E3779B97F4A7C15L + i;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        float u = (float) (z >>> 40) * (1.0f / 16777216.0f);
        return (2.0f * u - 1.0f) * halfWidth;
    }

    @Override
    public String describe() {
        return "random device weights (" + specs.size() + " tensors, made on " + cuda.name() + ")";
    }

    @Override
    public void close() {
        arena.close();
    }
}

package ai.polyv.bench;

import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.TokenIds;
import ai.polyv.loader.config.VisionConfig;
import ai.polyv.core.demo.DemoWeights;
import ai.polyv.core.model.WeightSource;
import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Random weights made in memory for every tensor of a config (names and shapes from
 * {@link DemoWeights#tensors}): norms 1, biases 0, matrices uniform with standard deviation 0.02, stored in
 * one dtype. For speed benchmarks only (the values mean nothing). Close it to free the memory.
 */
public final class RandomWeights implements WeightSource, AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Map<String, Raw> tensors = new LinkedHashMap<>();

    public RandomWeights(PolyVConfig config, DType dtype, long seed) {
        Inputs in = new Inputs(arena, seed);
        float halfWidth = (float) (DemoWeights.STD * Math.sqrt(3));   // uniform [-a, a) has std a / sqrt 3
        for (DemoWeights.TensorSpec t : DemoWeights.tensors(config)) {
            var tensor = switch (t.init()) {
                case NORMAL -> in.random(dtype, halfWidth, t.shape());
                case ZEROS -> in.filled(dtype, 0f, t.shape());
                case ONES -> in.filled(dtype, 1f, t.shape());
            };
            tensors.put(t.name(), new Raw(t.name(), dtype, t.shape(), tensor.data()));
        }
    }

    /**
     * The mid-size benchmark config: width 1024, 8 layers, 16 heads / 4 KV heads of 64, FFN 2816, vocabulary
     * 32768, layers 3 and 7 MoE (4 experts, top-2), a 2-block vision tower of width 128 (unused by text decode).
     */
    public static PolyVConfig midConfig() {
        TextConfig text = new TextConfig(1024, 2816, 8, 16, 4, 32768, 1e-6, 1_000_000.0, new int[] {8, 12, 12}, 4096, false, "silu");
        VisionConfig vision = new VisionConfig(2, 128, 256, 2, 1024, 14, 2, 2, 112, new int[] {1}, 2, 3, "silu");
        MoeConfig moe = new MoeConfig(new int[] {3, 7}, 4, 2, false, 0.01);
        TokenIds ids = new TokenIds(32001, 32002, 32000, 32003, null, List.of(32004));
        return new PolyVConfig(text, vision, moe, null, null, ids);
    }

    /** Bytes of every tensor, by name. */
    public Map<String, Long> byteSizes() {
        Map<String, Long> out = new LinkedHashMap<>();
        tensors.forEach((n, r) -> out.put(n, r.data().byteSize()));
        return out;
    }

    @Override
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Raw get(String name) {
        Raw r = tensors.get(name);
        if (r == null) throw new IllegalArgumentException("random weights have no tensor '" + name + "'");
        return r;
    }

    @Override
    public String describe() {
        return "random in-memory weights (" + tensors.size() + " tensors)";
    }

    @Override
    public void close() {
        arena.close();
    }
}

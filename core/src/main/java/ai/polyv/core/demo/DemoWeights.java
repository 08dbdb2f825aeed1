package ai.polyv.core.demo;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.Position3dConfig;
import ai.polyv.loader.config.SynergyConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.TokenIds;
import ai.polyv.loader.config.VisionConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * The demo's small random-weight PolyV: its config and, for any PolyV config, the full list of
 * checkpoint tensors (hub names, shapes, docs/spec.md §3) with a deterministic initialisation.
 *
 * <p>Values: norm weights 1, biases 0, every other weight normal(0, 0.02) drawn from
 * {@code L64X128MixRandom} seeded with {@code SEED ^ name.hashCode()} (independent of write order),
 * stored as BF16 like real checkpoints.
 */
public final class DemoWeights {

    /** Bump when the config or the initialisation changes: it names the cache folder. */
    public static final String VERSION = "1";
    public static final long SEED = 0x5eed_9017L;
    public static final double STD = 0.02;

    /** How a tensor is filled. */
    public enum Init { ONES, ZEROS, NORMAL }

    /**
     * One checkpoint tensor.
     *
     * @param shape dimensions, outermost first
     */
    public record TensorSpec(String name, long[] shape, Init init) {
        public long numel() {
            return Shape.numel(shape);
        }

        /** The tensor's values ({@code numel} floats), deterministic per name. */
        public float[] values() {
            float[] out = new float[Math.toIntExact(numel())];
            switch (init) {
                case ONES -> java.util.Arrays.fill(out, 1f);
                case ZEROS -> { }
                case NORMAL -> {
                    RandomGenerator r = RandomGeneratorFactory.of("L64X128MixRandom").create(SEED ^ name.hashCode());
                    for (int i = 0; i < out.length; i++) out[i] = (float) (r.nextGaussian() * STD);
                }
            }
            return out;
        }
    }

    private DemoWeights() {}

    /**
     * The demo config: the real Qwen vocabulary ({@code vocabSize} ids padded up to a multiple of
     * 128), width 256 (4 heads of 64, 2 KV heads), 4 decoder layers of which 1 and 3 are MoE (4
     * experts, top-2), a 2-block vision tower of width 128, synergy heads with the teacher widths
     * (1024, 2048), 3D encoding enabled. The synergy token is the last padded id (the Qwen vocabulary
     * has no {@code <synergy>} token).
     */
    public static PolyVConfig config(int tokenizerVocab, List<Integer> eosIds) {
        int vocab = (tokenizerVocab + 127) / 128 * 128;
        if (vocab == tokenizerVocab) vocab += 128;
        TextConfig text = new TextConfig(256, 512, 4, 4, 2, vocab, 1e-6, 1_000_000.0, new int[] {8, 12, 12},
                4096, false, "silu");
        VisionConfig vision = new VisionConfig(2, 128, 256, 2, 256, 14, 2, 2, 112, new int[] {1}, 2, 3, "silu");
        MoeConfig moe = new MoeConfig(new int[] {1, 3}, 4, 2, false, 0.01);
        SynergyConfig syn = new SynergyConfig(vocab - 1, new SynergyConfig.HeadSize(512, 1024), new SynergyConfig.HeadSize(512, 2048));
        Position3dConfig p3 = new Position3dConfig("sincos", 10000.0, 28);
        TokenIds ids = new TokenIds(151655, 151656, 151652, 151653, null, eosIds);
        return new PolyVConfig(text, vision, moe, syn, p3, ids);
    }

    /**
     * Every tensor a checkpoint of this config holds, in a fixed order ({@link WeightLayout#expected}):
     * norm scales are filled with ones, biases with zeros, every other weight is normal.
     */
    public static List<TensorSpec> tensors(PolyVConfig c) {
        List<TensorSpec> out = new ArrayList<>();
        for (ai.polyv.loader.layout.TensorSpec s : WeightLayout.expected(c)) {
            Init init = switch (s.role()) {
                case NORM -> Init.ONES;
                case BIAS -> Init.ZEROS;
                case WEIGHT -> Init.NORMAL;
            };
            out.add(new TensorSpec(s.name(), s.shape(), init));
        }
        return out;
    }
}

package ai.polyv.runtime.demo;

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
 * checkpoint tensors (hub names, shapes, SPEC.md section 3) with a deterministic initialisation.
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
            long n = 1;
            for (long d : shape) n *= d;
            return n;
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

    /** Every tensor a checkpoint of this config holds, in a fixed order. */
    public static List<TensorSpec> tensors(PolyVConfig c) {
        List<TensorSpec> out = new ArrayList<>();
        VisionConfig v = c.vision();
        int hv = v.hiddenSize();
        int iv = v.intermediateSize();
        int merged = hv * v.spatialMergeSize() * v.spatialMergeSize();
        out.add(w("visual.patch_embed.proj.weight", hv, v.inChans(), v.temporalPatchSize(), v.patchSize(), v.patchSize()));
        for (int b = 0; b < v.depth(); b++) {
            String p = "visual.blocks." + b + ".";
            out.add(ones(p + "norm1.weight", hv));
            out.add(ones(p + "norm2.weight", hv));
            out.add(w(p + "attn.qkv.weight", 3L * hv, hv));
            out.add(zeros(p + "attn.qkv.bias", 3L * hv));
            out.add(w(p + "attn.proj.weight", hv, hv));
            out.add(zeros(p + "attn.proj.bias", hv));
            out.add(w(p + "mlp.gate_proj.weight", iv, hv));
            out.add(zeros(p + "mlp.gate_proj.bias", iv));
            out.add(w(p + "mlp.up_proj.weight", iv, hv));
            out.add(zeros(p + "mlp.up_proj.bias", iv));
            out.add(w(p + "mlp.down_proj.weight", hv, iv));
            out.add(zeros(p + "mlp.down_proj.bias", hv));
        }
        out.add(ones("visual.merger.ln_q.weight", hv));
        out.add(w("visual.merger.mlp.0.weight", merged, merged));
        out.add(zeros("visual.merger.mlp.0.bias", merged));
        out.add(w("visual.merger.mlp.2.weight", v.outHiddenSize(), merged));
        out.add(zeros("visual.merger.mlp.2.bias", v.outHiddenSize()));

        TextConfig t = c.text();
        int h = t.hiddenSize();
        int kv = t.numKvHeads() * t.headDim();
        int inter = t.intermediateSize();
        out.add(w("model.embed_tokens.weight", t.vocabSize(), h));
        for (int l = 0; l < t.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.add(ones(p + "input_layernorm.weight", h));
            out.add(ones(p + "post_attention_layernorm.weight", h));
            out.add(w(p + "self_attn.q_proj.weight", h, h));
            out.add(zeros(p + "self_attn.q_proj.bias", h));
            out.add(w(p + "self_attn.k_proj.weight", kv, h));
            out.add(zeros(p + "self_attn.k_proj.bias", kv));
            out.add(w(p + "self_attn.v_proj.weight", kv, h));
            out.add(zeros(p + "self_attn.v_proj.bias", kv));
            out.add(w(p + "self_attn.o_proj.weight", h, h));
            if (c.moe() != null && c.moe().isMoeLayer(l)) {
                out.add(w(p + "mlp.gate.weight", c.moe().numExperts(), h));
                for (int e = 0; e < c.moe().numExperts(); e++) ffn(out, p + "mlp.experts." + e + ".", h, inter);
            } else {
                ffn(out, p + "mlp.", h, inter);
            }
        }
        out.add(ones("model.norm.weight", h));
        if (!t.tieWordEmbeddings()) out.add(w("lm_head.weight", t.vocabSize(), h));
        if (c.synergy() != null) {
            head(out, "synergy_heads.temporal.", h, c.synergy().temporal());
            head(out, "synergy_heads.spatial.", h, c.synergy().spatial());
        }
        return out;
    }

    private static void ffn(List<TensorSpec> out, String p, int h, int inter) {
        out.add(w(p + "gate_proj.weight", inter, h));
        out.add(w(p + "up_proj.weight", inter, h));
        out.add(w(p + "down_proj.weight", h, inter));
    }

    private static void head(List<TensorSpec> out, String p, int h, SynergyConfig.HeadSize s) {
        out.add(w(p + "fc1.weight", s.hiddenSize(), h));
        out.add(zeros(p + "fc1.bias", s.hiddenSize()));
        out.add(w(p + "fc2.weight", s.outSize(), s.hiddenSize()));
        out.add(zeros(p + "fc2.bias", s.outSize()));
    }

    private static TensorSpec w(String name, long... shape) {
        return new TensorSpec(name, shape, Init.NORMAL);
    }

    private static TensorSpec ones(String name, long... shape) {
        return new TensorSpec(name, shape, Init.ONES);
    }

    private static TensorSpec zeros(String name, long... shape) {
        return new TensorSpec(name, shape, Init.ZEROS);
    }
}

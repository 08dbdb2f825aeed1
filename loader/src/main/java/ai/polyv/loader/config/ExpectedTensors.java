package ai.polyv.loader.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every tensor a PolyV checkpoint of a given config must hold: hub names and shapes (SPEC.md section 3), in a
 * fixed order (vision tower, embeddings, decoder layers, final norm, lm_head, synergy heads). Used by
 * {@code polyv inspect} to validate a checkpoint against its config.json and by the demo to build one.
 */
public final class ExpectedTensors {

    /** What a tensor is, which fixes how a fresh checkpoint initialises it. */
    public enum Role {
        /** An RMSNorm / LayerNorm scale (initialised to 1). */
        NORM,
        /** A bias vector (initialised to 0). */
        BIAS,
        /** A projection or embedding matrix (initialised randomly). */
        WEIGHT
    }

    /**
     * One expected tensor.
     *
     * @param shape dimensions, outermost first
     */
    public record Spec(String name, long[] shape, Role role) {
        public Spec {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Spec s && name.equals(s.name) && Arrays.equals(shape, s.shape) && role == s.role;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    private ExpectedTensors() {}

    /** Every tensor a checkpoint of {@code c} holds, in a fixed order. */
    public static List<Spec> of(PolyVConfig c) {
        List<Spec> out = new ArrayList<>();
        VisionConfig v = c.vision();
        int hv = v.hiddenSize();
        int iv = v.intermediateSize();
        int merged = hv * v.spatialMergeSize() * v.spatialMergeSize();
        out.add(w("visual.patch_embed.proj.weight", hv, v.inChans(), v.temporalPatchSize(), v.patchSize(), v.patchSize()));
        for (int b = 0; b < v.depth(); b++) {
            String p = "visual.blocks." + b + ".";
            out.add(norm(p + "norm1.weight", hv));
            out.add(norm(p + "norm2.weight", hv));
            out.add(w(p + "attn.qkv.weight", 3L * hv, hv));
            out.add(bias(p + "attn.qkv.bias", 3L * hv));
            out.add(w(p + "attn.proj.weight", hv, hv));
            out.add(bias(p + "attn.proj.bias", hv));
            out.add(w(p + "mlp.gate_proj.weight", iv, hv));
            out.add(bias(p + "mlp.gate_proj.bias", iv));
            out.add(w(p + "mlp.up_proj.weight", iv, hv));
            out.add(bias(p + "mlp.up_proj.bias", iv));
            out.add(w(p + "mlp.down_proj.weight", hv, iv));
            out.add(bias(p + "mlp.down_proj.bias", hv));
        }
        out.add(norm("visual.merger.ln_q.weight", hv));
        out.add(w("visual.merger.mlp.0.weight", merged, merged));
        out.add(bias("visual.merger.mlp.0.bias", merged));
        out.add(w("visual.merger.mlp.2.weight", v.outHiddenSize(), merged));
        out.add(bias("visual.merger.mlp.2.bias", v.outHiddenSize()));

        TextConfig t = c.text();
        int h = t.hiddenSize();
        int kv = t.kvWidth();
        int inter = t.intermediateSize();
        out.add(w("model.embed_tokens.weight", t.vocabSize(), h));
        for (int l = 0; l < t.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            out.add(norm(p + "input_layernorm.weight", h));
            out.add(norm(p + "post_attention_layernorm.weight", h));
            out.add(w(p + "self_attn.q_proj.weight", h, h));
            out.add(bias(p + "self_attn.q_proj.bias", h));
            out.add(w(p + "self_attn.k_proj.weight", kv, h));
            out.add(bias(p + "self_attn.k_proj.bias", kv));
            out.add(w(p + "self_attn.v_proj.weight", kv, h));
            out.add(bias(p + "self_attn.v_proj.bias", kv));
            out.add(w(p + "self_attn.o_proj.weight", h, h));
            if (c.isMoeLayer(l)) {
                out.add(w(p + "mlp.gate.weight", c.moe().numExperts(), h));   // router [experts, H]
                for (int e = 0; e < c.moe().numExperts(); e++) {
                    ffn(out, p + "mlp.experts." + e + ".", h, inter);
                }
            } else {
                ffn(out, p + "mlp.", h, inter);
            }
        }
        out.add(norm("model.norm.weight", h));
        if (!t.tieWordEmbeddings()) {
            out.add(w("lm_head.weight", t.vocabSize(), h));
        }
        if (c.synergy() != null) {
            head(out, "synergy_heads.temporal.", h, c.synergy().temporal());
            head(out, "synergy_heads.spatial.", h, c.synergy().spatial());
        }
        return out;
    }

    private static void ffn(List<Spec> out, String p, int h, int inter) {
        out.add(w(p + "gate_proj.weight", inter, h));
        out.add(w(p + "up_proj.weight", inter, h));
        out.add(w(p + "down_proj.weight", h, inter));
    }

    private static void head(List<Spec> out, String p, int h, SynergyConfig.HeadSize s) {
        out.add(w(p + "fc1.weight", s.hiddenSize(), h));
        out.add(bias(p + "fc1.bias", s.hiddenSize()));
        out.add(w(p + "fc2.weight", s.outSize(), s.hiddenSize()));
        out.add(bias(p + "fc2.bias", s.outSize()));
    }

    private static Spec w(String name, long... shape) {
        return new Spec(name, shape, Role.WEIGHT);
    }

    private static Spec norm(String name, long... shape) {
        return new Spec(name, shape, Role.NORM);
    }

    private static Spec bias(String name, long... shape) {
        return new Spec(name, shape, Role.BIAS);
    }
}

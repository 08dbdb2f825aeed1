package ai.polyv.loader.layout;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.SynergyConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.VisionConfig;
import ai.polyv.loader.layout.TensorSpec.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * The structure of a Qwen2.5-VL / PolyV model as one tree of records, generic in what sits at the leaves:
 * {@code M} for matrices, {@code V} for vectors (norm scales, biases). {@link #of} builds it with
 * {@link TensorSpec} leaves (canonical names and shapes from a config); a {@link Binder} turns it into the
 * tensors one user needs: the inference weights ({@code core.model.ModelWeights}: backend tensors), the
 * training parameters ({@code train.PolyVObjective}: autograd weights), the expected tensors of
 * {@code polyv inspect} and the demo checkpoint ({@link #expected}). Shapes are written on each record.
 *
 * @param heads the synergy alignment heads (always named; {@link Heads#declared} when the config has them)
 */
public record WeightLayout<M, V>(Vision<M, V> vision, Decoder<M, V> decoder, Heads<M, V> heads) {

    /** {@code weight [out, in]}, {@code bias [out]} or null. */
    public record Linear<M, V>(M weight, V bias) {}

    /** SwiGLU FFN {@code down(silu(gate(x)) * up(x))}: gate, up {@code [inter, hidden]}, down {@code [hidden, inter]}. */
    public record SwiGlu<M, V>(Linear<M, V> gate, Linear<M, V> up, Linear<M, V> down) {}

    /** Vision block: norms {@code [vh]}, qkv {@code [3*vh, vh]} with bias, proj {@code [vh, vh]} with bias, MLP with biases. */
    public record VisionBlock<M, V>(V norm1, Linear<M, V> qkv, Linear<M, V> proj, V norm2, SwiGlu<M, V> mlp) {}

    /**
     * Vision tower: patch embed {@code [vh, 3, 2, 14, 14]} (the Conv3d kernel), blocks, merger norm {@code [vh]},
     * merger linears {@code [4*vh, 4*vh]} and {@code [out, 4*vh]}.
     */
    public record Vision<M, V>(M patchEmbed, List<VisionBlock<M, V>> blocks, V mergerNorm, Linear<M, V> merger0,
                               Linear<M, V> merger2) {}

    /** A decoder layer's feed-forward: a dense SwiGLU or a sparse MoE (docs/spec.md §2). */
    public sealed interface Ffn<M, V> permits Dense, Moe {}

    /** Dense SwiGLU without biases ({@code model.layers.L.mlp.*}). */
    public record Dense<M, V>(SwiGlu<M, V> mlp) implements Ffn<M, V> {}

    /** MoE: router {@code [experts, hidden]} ({@code mlp.gate.weight}) and the experts ({@code mlp.experts.E.*}). */
    public record Moe<M, V>(M router, List<SwiGlu<M, V>> experts) implements Ffn<M, V> {}

    /**
     * Decoder layer: norms {@code [hidden]}; q {@code [heads*hd, hidden]}, k and v {@code [kvHeads*hd, hidden]}
     * with biases; o {@code [hidden, heads*hd]} without.
     */
    public record DecoderLayer<M, V>(V inputNorm, Linear<M, V> q, Linear<M, V> k, Linear<M, V> v, Linear<M, V> o,
                                     V postNorm, Ffn<M, V> ffn) {}

    /**
     * Text decoder: embedding {@code [vocab, hidden]}, layers, final norm {@code [hidden]}, lm_head
     * {@code [vocab, hidden]}; with {@code tied} (tie_word_embeddings) a checkpoint may leave lm_head out and
     * the embedding is used.
     */
    public record Decoder<M, V>(M embedTokens, List<DecoderLayer<M, V>> layers, V norm, M lmHead, boolean tied) {}

    /** Alignment head: fc1 {@code [mid, hidden]} -> GELU -> fc2 {@code [out, mid]}, both with biases. */
    public record Head<M, V>(Linear<M, V> fc1, Linear<M, V> fc2) {}

    /** Both alignment heads (a bound one is null when the checkpoint has none); {@code declared}: in the config. */
    public record Heads<M, V>(Head<M, V> temporal, Head<M, V> spatial, boolean declared) {}

    /** The layout of a config: MoE layers from {@code moe}, heads sized by {@code synergy} (open sizes without it). */
    public static WeightLayout<TensorSpec, TensorSpec> of(PolyVConfig c) {
        VisionConfig v = c.vision();
        int vh = v.hiddenSize(), iv = v.intermediateSize(), merged = vh * v.spatialMergeSize() * v.spatialMergeSize();
        List<VisionBlock<TensorSpec, TensorSpec>> blocks = new ArrayList<>();
        for (int b = 0; b < v.depth(); b++) {
            String p = HubNames.visionBlock(b);
            blocks.add(new VisionBlock<>(norm(p + "norm1.weight", vh), linear(p + "attn.qkv", 3L * vh, vh, true),
                    linear(p + "attn.proj", vh, vh, true), norm(p + "norm2.weight", vh), swiglu(p + "mlp.", iv, vh, true)));
        }
        Vision<TensorSpec, TensorSpec> vision = new Vision<>(
                matrix(HubNames.PATCH_EMBED, vh, v.inChans(), v.temporalPatchSize(), v.patchSize(), v.patchSize()), blocks,
                norm(HubNames.MERGER + "ln_q.weight", vh), linear(HubNames.MERGER + "mlp.0", merged, merged, true),
                linear(HubNames.MERGER + "mlp.2", v.outHiddenSize(), merged, true));

        TextConfig t = c.text();
        int h = t.hiddenSize(), kv = t.kvWidth(), q = t.numHeads() * (h / t.numHeads()), inter = t.intermediateSize();
        List<DecoderLayer<TensorSpec, TensorSpec>> layers = new ArrayList<>();
        for (int l = 0; l < t.numLayers(); l++) {
            String a = HubNames.attention(l);
            Ffn<TensorSpec, TensorSpec> ffn;
            if (c.isMoeLayer(l)) {
                List<SwiGlu<TensorSpec, TensorSpec>> experts = new ArrayList<>();
                for (int e = 0; e < c.moe().numExperts(); e++) experts.add(swiglu(HubNames.expert(l, e), inter, h, false));
                ffn = new Moe<>(matrix(HubNames.router(l), c.moe().numExperts(), h), experts);
            } else {
                ffn = new Dense<>(swiglu(HubNames.mlp(l), inter, h, false));
            }
            layers.add(new DecoderLayer<>(norm(HubNames.layer(l) + "input_layernorm.weight", h), linear(a + "q_proj", q, h, true),
                    linear(a + "k_proj", kv, h, true), linear(a + "v_proj", kv, h, true), linear(a + "o_proj", h, q, false),
                    norm(HubNames.layer(l) + "post_attention_layernorm.weight", h), ffn));
        }
        Decoder<TensorSpec, TensorSpec> decoder = new Decoder<>(matrix(HubNames.EMBED_TOKENS, t.vocabSize(), h), layers,
                norm(HubNames.FINAL_NORM, h), matrix(HubNames.LM_HEAD, t.vocabSize(), h), t.tieWordEmbeddings());

        SynergyConfig s = c.synergy();
        Heads<TensorSpec, TensorSpec> heads = new Heads<>(head("temporal", h, s == null ? null : s.temporal()),
                head("spatial", h, s == null ? null : s.spatial()), s != null);
        return new WeightLayout<>(vision, decoder, heads);
    }

    /** An alignment head's specs; with {@code size} null its widths are open (taken from the checkpoint). */
    private static Head<TensorSpec, TensorSpec> head(String which, int hidden, SynergyConfig.HeadSize size) {
        String p = HubNames.synergyHead(which);
        long mid = size == null ? -1 : size.hiddenSize(), out = size == null ? -1 : size.outSize();
        return new Head<>(linear(p + "fc1", mid, hidden, true), linear(p + "fc2", out, mid, true));
    }

    /**
     * Every tensor a checkpoint of this layout must hold, in a fixed order: the vision tower (patch embed; per
     * block norm1, norm2, qkv, proj, mlp; merger), the embedding, per decoder layer the norms, attention and
     * FFN (router before experts), the final norm, lm_head unless tied, the alignment heads if declared.
     */
    public static List<TensorSpec> expected(WeightLayout<TensorSpec, TensorSpec> layout) {
        List<TensorSpec> out = new ArrayList<>();
        Vision<TensorSpec, TensorSpec> v = layout.vision();
        out.add(v.patchEmbed());
        for (VisionBlock<TensorSpec, TensorSpec> b : v.blocks()) {
            out.add(b.norm1());
            out.add(b.norm2());
            add(out, b.qkv());
            add(out, b.proj());
            add(out, b.mlp());
        }
        out.add(v.mergerNorm());
        add(out, v.merger0());
        add(out, v.merger2());
        Decoder<TensorSpec, TensorSpec> d = layout.decoder();
        out.add(d.embedTokens());
        for (DecoderLayer<TensorSpec, TensorSpec> l : d.layers()) {
            out.add(l.inputNorm());
            out.add(l.postNorm());
            for (Linear<TensorSpec, TensorSpec> p : List.of(l.q(), l.k(), l.v(), l.o())) add(out, p);
            switch (l.ffn()) {
                case Dense<TensorSpec, TensorSpec> dense -> add(out, dense.mlp());
                case Moe<TensorSpec, TensorSpec> moe -> {
                    out.add(moe.router());
                    for (SwiGlu<TensorSpec, TensorSpec> e : moe.experts()) add(out, e);
                }
            }
        }
        out.add(d.norm());
        if (!d.tied()) out.add(d.lmHead());
        if (layout.heads().declared()) {
            for (Head<TensorSpec, TensorSpec> h : List.of(layout.heads().temporal(), layout.heads().spatial())) {
                add(out, h.fc1());
                add(out, h.fc2());
            }
        }
        return out;
    }

    /** {@link #expected} of the layout of {@code c}. */
    public static List<TensorSpec> expected(PolyVConfig c) {
        return expected(of(c));
    }

    private static void add(List<TensorSpec> out, Linear<TensorSpec, TensorSpec> l) {
        out.add(l.weight());
        if (l.bias() != null) out.add(l.bias());
    }

    private static void add(List<TensorSpec> out, SwiGlu<TensorSpec, TensorSpec> f) {
        add(out, f.gate());
        add(out, f.up());
        add(out, f.down());
    }

    private static SwiGlu<TensorSpec, TensorSpec> swiglu(String p, long inter, long hidden, boolean bias) {
        return new SwiGlu<>(linear(p + "gate_proj", inter, hidden, bias), linear(p + "up_proj", inter, hidden, bias),
                linear(p + "down_proj", hidden, inter, bias));
    }

    private static Linear<TensorSpec, TensorSpec> linear(String name, long out, long in, boolean bias) {
        return new Linear<>(matrix(name + ".weight", out, in), bias ? new TensorSpec(name + ".bias", new long[] {out}, Role.BIAS) : null);
    }

    private static TensorSpec matrix(String name, long... shape) {
        return new TensorSpec(name, shape, Role.WEIGHT);
    }

    private static TensorSpec norm(String name, long n) {
        return new TensorSpec(name, new long[] {n}, Role.NORM);
    }
}

package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.tensor.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every weight of the model as backend tensors, checked against the expected shapes. Matrices stay in
 * their stored dtype (zero-copy on the CPU); 1-D tensors (norm weights, biases) are converted to F32
 * once, in an arena owned by this object.
 */
final class ModelWeights implements AutoCloseable {

    /** Linear layer: {@code w [out, in]}, {@code b [out]} or null. */
    record Linear(Tensor w, Tensor b) {
        int out() {
            return w.rows();
        }
    }

    /** SwiGLU FFN (decoder: no biases; vision: with biases). */
    record SwiGlu(Linear gate, Linear up, Linear down) {}

    record VisionBlock(Tensor norm1, Linear qkv, Linear proj, Tensor norm2, SwiGlu mlp) {}

    /** {@code patchEmbed [hidden, 3*2*14*14]} (the Conv3d kernel seen as a matrix). */
    record VisionWeights(Tensor patchEmbed, List<VisionBlock> blocks, Tensor mergerNorm, Linear merger0, Linear merger2) {}

    /** MoE FFN: router {@code [M, hidden]} and M experts. */
    record MoeWeights(Tensor router, List<SwiGlu> experts) {}

    /** One decoder layer; exactly one of {@code mlp} and {@code moe} is non-null. */
    record Layer(Tensor inputNorm, Linear q, Linear k, Linear v, Linear o, Tensor postNorm, SwiGlu mlp, MoeWeights moe) {}

    /** Alignment head: fc1 -> GELU -> fc2. */
    record Head(Linear fc1, Linear fc2) {}

    final VisionWeights vision;
    final Tensor embedTokens; // [vocab, hidden]
    final List<Layer> layers;
    final Tensor finalNorm;   // [hidden]
    final Tensor lmHead;      // [vocab, hidden]
    final Head temporalHead;  // null when the checkpoint has none
    final Head spatialHead;

    private final Arena arena = Arena.ofShared();
    private final Backend backend;
    private final WeightSource src;

    ModelWeights(WeightSource src, ModelDims dims, Backend backend) {
        this.src = src;
        this.backend = backend;
        try {
            ModelDims.Vision vc = dims.vision();
            int vh = vc.hidden();
            List<VisionBlock> blocks = new ArrayList<>();
            for (int i = 0; i < vc.depth(); i++) {
                String p = "visual.blocks." + i + ".";
                blocks.add(new VisionBlock(vec(p + "norm1.weight", vh),
                        linear(p + "attn.qkv", 3 * vh, vh, true), linear(p + "attn.proj", vh, vh, true),
                        vec(p + "norm2.weight", vh), swiglu(p + "mlp.", -1, vh, true)));
            }
            int unit = vc.mergeSize() * vc.mergeSize();
            WeightSource.Raw pe = src.get("visual.patch_embed.proj.weight");
            long[] peShape = {vh, 3, vc.temporalPatchSize(), vc.patchSize(), vc.patchSize()};
            check(pe, peShape);
            this.vision = new VisionWeights(
                    src.toBackend(backend, pe, vh, vc.patchRowWidth()), blocks,
                    vec("visual.merger.ln_q.weight", vh),
                    linear("visual.merger.mlp.0", unit * vh, unit * vh, true),
                    linear("visual.merger.mlp.2", vc.outHidden(), unit * vh, true));
            ModelDims.Text tc = dims.text();
            int h = tc.hidden(), hd = tc.headDim();
            this.embedTokens = matrix("model.embed_tokens.weight", tc.vocab(), h);
            List<Layer> ls = new ArrayList<>();
            for (int i = 0; i < tc.layers(); i++) {
                String p = "model.layers." + i + ".";
                SwiGlu mlp = null;
                MoeWeights moe = null;
                if (dims.isMoeLayer(i)) {
                    int m = dims.moe().numExperts();
                    List<SwiGlu> experts = new ArrayList<>();
                    for (int e = 0; e < m; e++) experts.add(swiglu(p + "mlp.experts." + e + ".", -1, h, false));
                    moe = new MoeWeights(matrix(p + "mlp.gate.weight", m, h), experts);
                } else {
                    mlp = swiglu(p + "mlp.", -1, h, false);
                }
                ls.add(new Layer(vec(p + "input_layernorm.weight", h),
                        linear(p + "self_attn.q_proj", tc.heads() * hd, h, true),
                        linear(p + "self_attn.k_proj", tc.kvHeads() * hd, h, true),
                        linear(p + "self_attn.v_proj", tc.kvHeads() * hd, h, true),
                        linear(p + "self_attn.o_proj", h, tc.heads() * hd, false),
                        vec(p + "post_attention_layernorm.weight", h), mlp, moe));
            }
            this.layers = List.copyOf(ls);
            this.finalNorm = vec("model.norm.weight", h);
            this.lmHead = tc.tieWordEmbeddings() && !src.has("lm_head.weight") ? embedTokens : matrix("lm_head.weight", tc.vocab(), h);
            this.temporalHead = head("synergy_heads.temporal.", h);
            this.spatialHead = head("synergy_heads.spatial.", h);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private Head head(String p, int hidden) {
        if (!src.has(p + "fc1.weight")) return null;
        Linear fc1 = linear(p + "fc1", -1, hidden, true);
        return new Head(fc1, linear(p + "fc2", -1, fc1.out(), true));
    }

    /** SwiGLU with gate/up {@code [inter, hidden]} and down {@code [hidden, inter]}; inter from the checkpoint. */
    private SwiGlu swiglu(String p, int inter, int hidden, boolean bias) {
        Linear gate = linear(p + "gate_proj", inter, hidden, bias);
        return new SwiGlu(gate, linear(p + "up_proj", gate.out(), hidden, bias), linear(p + "down_proj", hidden, gate.out(), bias));
    }

    /** {@code name.weight [out, in]} (out = -1: any) and optionally {@code name.bias [out]}. */
    private Linear linear(String name, int out, int in, boolean bias) {
        WeightSource.Raw w = src.get(name + ".weight");
        if (w.shape().length != 2 || (out >= 0 && w.shape()[0] != out) || w.shape()[1] != in) {
            throw misshaped(w, "[" + (out < 0 ? "?" : out) + ", " + in + "]");
        }
        int o = (int) w.shape()[0];
        return new Linear(src.toBackend(backend, w, w.shape()), bias ? vec(name + ".bias", o) : null);
    }

    private Tensor matrix(String name, int rows, int cols) {
        WeightSource.Raw w = src.get(name);
        check(w, new long[] {rows, cols});
        return src.toBackend(backend, w, w.shape());
    }

    /** A 1-D tensor converted to F32. */
    private Tensor vec(String name, int n) {
        WeightSource.Raw w = src.get(name);
        check(w, new long[] {n});
        Tensor stored = new Tensor(w.dtype(), w.data(), n);
        MemorySegment f = arena.allocate(4L * n, 64);
        for (int i = 0; i < n; i++) f.setAtIndex(ValueLayout.JAVA_FLOAT, i, stored.getFloat(i));
        return backend.weight(DType.F32, f, n);
    }

    private void check(WeightSource.Raw w, long[] expected) {
        if (!Arrays.equals(w.shape(), expected)) throw misshaped(w, Arrays.toString(expected));
    }

    private IllegalArgumentException misshaped(WeightSource.Raw w, String expected) {
        return new IllegalArgumentException(src.describe() + ": tensor '" + w.name() + "' has shape "
                + Arrays.toString(w.shape()) + ", expected " + expected);
    }

    @Override
    public void close() {
        arena.close();
    }
}

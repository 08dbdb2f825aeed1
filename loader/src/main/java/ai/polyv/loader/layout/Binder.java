package ai.polyv.loader.layout;

import ai.polyv.loader.layout.WeightLayout.Decoder;
import ai.polyv.loader.layout.WeightLayout.DecoderLayer;
import ai.polyv.loader.layout.WeightLayout.Dense;
import ai.polyv.loader.layout.WeightLayout.Ffn;
import ai.polyv.loader.layout.WeightLayout.Head;
import ai.polyv.loader.layout.WeightLayout.Heads;
import ai.polyv.loader.layout.WeightLayout.Linear;
import ai.polyv.loader.layout.WeightLayout.Moe;
import ai.polyv.loader.layout.WeightLayout.SwiGlu;
import ai.polyv.loader.layout.WeightLayout.Vision;
import ai.polyv.loader.layout.WeightLayout.VisionBlock;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the {@link TensorSpec}s of a {@link WeightLayout} into the tensors one user needs (matrices {@code M},
 * vectors {@code V}). The walk is written once, here: every tensor is looked up by its canonical name, its
 * stored shape checked against the spec (an error names the source, the tensor as stored, the shape found
 * and the shape expected), and only then handed to {@link #matrix} or {@link #vector}, in layout order.
 */
public interface Binder<M, V> {

    /** Whether the source holds the tensor with this canonical name. */
    boolean has(String name);

    /** The stored shape of the tensor with this canonical name; an error naming it when it is missing. */
    long[] shape(String name);

    /** The matrix of a checked spec (open sizes resolved from the source). */
    M matrix(TensorSpec spec);

    /** The vector of a checked 1-D spec. */
    V vector(TensorSpec spec);

    /** The source, for error messages ("checkpoint DIR"). */
    String describe();

    /** The name the tensor has in the source (another hub naming may store it under another name). */
    default String storedName(String name) {
        return name;
    }

    /** The spec with its open sizes taken from the source, after checking the stored shape. */
    default TensorSpec check(TensorSpec spec) {
        long[] have = shape(spec.name());
        if (!spec.matches(have)) {
            throw new IllegalArgumentException(describe() + ": tensor '" + storedName(spec.name()) + "' has shape "
                    + Arrays.toString(have) + ", expected " + spec.shapeText());
        }
        return spec.resolved(have);
    }

    default Vision<M, V> vision(Vision<TensorSpec, TensorSpec> v) {
        List<VisionBlock<M, V>> blocks = v.blocks().stream()
                .map(b -> new VisionBlock<>(vec(b.norm1()), linear(b.qkv()), linear(b.proj()), vec(b.norm2()), swiglu(b.mlp())))
                .toList();
        return new Vision<>(matrix(check(v.patchEmbed())), blocks, vec(v.mergerNorm()), linear(v.merger0()), linear(v.merger2()));
    }

    /** The decoder; a tied lm_head absent from the source is the embedding. */
    default Decoder<M, V> decoder(Decoder<TensorSpec, TensorSpec> d) {
        M embed = matrix(check(d.embedTokens()));
        List<DecoderLayer<M, V>> layers = d.layers().stream().map(this::layer).toList();
        M lmHead = d.tied() && !has(d.lmHead().name()) ? embed : matrix(check(d.lmHead()));
        return new Decoder<>(embed, layers, vec(d.norm()), lmHead, d.tied());
    }

    /** One decoder layer; the FFN first (router, then experts), then the norms and the attention. */
    default DecoderLayer<M, V> layer(DecoderLayer<TensorSpec, TensorSpec> l) {
        Ffn<M, V> ffn = switch (l.ffn()) {
            case Dense<TensorSpec, TensorSpec> dense -> new Dense<>(swiglu(dense.mlp()));
            case Moe<TensorSpec, TensorSpec> moe -> {
                M router = matrix(check(moe.router()));
                yield new Moe<>(router, moe.experts().stream().map(this::swiglu).toList());
            }
        };
        return new DecoderLayer<>(vec(l.inputNorm()), linear(l.q()), linear(l.k()), linear(l.v()), linear(l.o()),
                vec(l.postNorm()), ffn);
    }

    /** The heads the source holds (a head is present when its {@code fc1.weight} is). */
    default Heads<M, V> heads(Heads<TensorSpec, TensorSpec> h) {
        return new Heads<>(has(h.temporal().fc1().weight().name()) ? head(h.temporal()) : null,
                has(h.spatial().fc1().weight().name()) ? head(h.spatial()) : null, h.declared());
    }

    /** An alignment head; fc2's input width is fc1's output width. */
    default Head<M, V> head(Head<TensorSpec, TensorSpec> h) {
        TensorSpec w1 = check(h.fc1().weight());
        long mid = w1.dim(0);
        TensorSpec w2 = check(withInput(h.fc2().weight(), mid));
        Linear<M, V> fc1 = new Linear<>(matrix(w1), vector(check(new TensorSpec(h.fc1().bias().name(), new long[] {mid}, h.fc1().bias().role()))));
        Linear<M, V> fc2 = new Linear<>(matrix(w2), vector(check(new TensorSpec(h.fc2().bias().name(), new long[] {w2.dim(0)}, h.fc2().bias().role()))));
        return new Head<>(fc1, fc2);
    }

    private static TensorSpec withInput(TensorSpec w, long in) {
        long[] s = w.shape();
        if (s[1] < 0) s[1] = in;
        return new TensorSpec(w.name(), s, w.role());
    }

    default SwiGlu<M, V> swiglu(SwiGlu<TensorSpec, TensorSpec> f) {
        return new SwiGlu<>(linear(f.gate()), linear(f.up()), linear(f.down()));
    }

    default Linear<M, V> linear(Linear<TensorSpec, TensorSpec> l) {
        M w = matrix(check(l.weight()));
        return new Linear<>(w, l.bias() == null ? null : vector(check(l.bias())));
    }

    private V vec(TensorSpec s) {
        return vector(check(s));
    }
}

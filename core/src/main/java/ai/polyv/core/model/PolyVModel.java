package ai.polyv.core.model;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.layout.ModelFamily;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A loaded PolyV (or dense Qwen2.5-VL) model bound to one backend: {@link VisionEncoder}, {@link TextDecoder}
 * (decoder with MoE layers and lm_head), synergy heads. Sessions hold the per-generation state (KV cache); the model itself is immutable.
 */
public final class PolyVModel implements AutoCloseable {
    private final PolyVConfig config;
    private final ModelDims dims;
    private final Backend backend;
    private final Checkpoint checkpoint; // null when built from a WeightSource owned by the caller
    private final ModelWeights weights;
    private final VisionEncoder vision;
    private final TextDecoder decoder;
    private final WeightSource source;
    private final ModelFamily family;
    private final WeightLayout<TensorSpec, TensorSpec> layout;

    private PolyVModel(PolyVConfig config, ModelDims dims, Backend backend, Checkpoint checkpoint, WeightSource src) {
        this.config = config;
        this.dims = dims;
        this.backend = Objects.requireNonNull(backend, "backend");
        this.checkpoint = checkpoint;
        this.source = src;
        this.family = ModelFamily.of(config);
        this.layout = family.layout(config);
        this.weights = new ModelWeights(src, layout, backend);
        this.vision = new VisionEncoder(dims.vision(), weights.vision, backend);
        this.decoder = new TextDecoder(dims, weights.decoder, backend);
    }

    /**
     * Loads {@code config.json} and the safetensors checkpoint (single or sharded) of a folder: a PolyV or a plain
     * dense Qwen2.5-VL model ({@link ModelFamily#of}), its tensors in either hub naming ({@link WeightSource#of}).
     */
    public static PolyVModel load(Path checkpointDir, Backend backend) {
        PathChecks.directory("model folder", checkpointDir);
        PolyVConfig config = PolyVConfig.load(checkpointDir);
        Checkpoint ckpt = Checkpoint.open(checkpointDir);
        try {
            return new PolyVModel(config, dimsOf(config), backend, ckpt, WeightSource.of(ckpt));
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /** A model over weights the caller owns (kept alive by the caller), e.g. synthetic test weights. */
    public static PolyVModel of(PolyVConfig config, WeightSource weights, Backend backend) {
        return new PolyVModel(config, dimsOf(config), backend, null, weights);
    }

    /** The sizes the forward pass uses, from a config. */
    public static ModelDims dimsOf(PolyVConfig c) {
        var t = c.text();
        var v = c.vision();
        var m = c.moe();
        var k = c.tokens();
        return new ModelDims(
                new ModelDims.Text(t.hiddenSize(), t.numLayers(), t.numHeads(), t.numKvHeads(), t.headDim(), t.vocabSize(),
                        (float) t.rmsNormEps(), t.ropeTheta(), t.mropeSection(), t.maxPositionEmbeddings(), t.tieWordEmbeddings()),
                new ModelDims.Vision(v.depth(), v.hiddenSize(), v.numHeads(), v.outHiddenSize(), v.patchSize(), v.spatialMergeSize(),
                        v.temporalPatchSize(), v.windowSize(), v.fullattBlockIndexes(), v.tokensPerSecond()),
                m == null ? null : new ModelDims.Moe(m.layers(), m.numExperts(), m.topK(), m.normTopkProb()),
                new ModelDims.Tokens(k.imageTokenId(), k.videoTokenId(), k.visionStartTokenId(), k.visionEndTokenId()));
    }

    public PolyVConfig config() {
        return config;
    }

    public ModelDims dims() {
        return dims;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * The tensors this model was built from, by hub name (valid while the model is open): training reads
     * frozen weights in place and copies trainable ones from here.
     */
    public WeightSource weightSource() {
        return source;
    }

    /** The model family config.json names ({@code architectures}). */
    public ModelFamily family() {
        return family;
    }

    /** The canonical names and shapes of every tensor of this model (the family's layout of its config). */
    public WeightLayout<TensorSpec, TensorSpec> layout() {
        return layout;
    }

    TextDecoder decoder() {
        return decoder;
    }

    VisionEncoder vision() {
        return vision;
    }

    /** A new generation session whose KV cache holds {@code maxTokens} tokens (prompt + generated). */
    public Session newSession(int maxTokens) {
        return new Session(this, maxTokens);
    }

    /** Vision encoder output of one input: merger rows {@code [mergedTokens, hidden]} (+ pe3d). */
    public VisionOutput encodeVision(VisionInput in) {
        return encodeVision(in, null);
    }

    public VisionOutput encodeVision(VisionInput in, ForwardTrace trace) {
        int m = vision.mergedTokens(in), h = dims.vision().outHidden();
        try (Workspace ws = backend.workspace()) {
            Tensor out = ws.f32(m, h);
            vision.encode(in, ws, out, trace);
            return new VisionOutput(backend.download(out), m, h);
        }
    }

    /** Which synergy alignment head. */
    public enum SynergyHead { TEMPORAL, SPATIAL }

    /**
     * Synergy head forward {@code fc2(GELU(fc1(x)))} on final hidden rows {@code x [n, hidden]}
     * (row-major); returns {@code [n, out]}.
     */
    public float[] synergyHead(SynergyHead which, float[] finalHidden, int n) {
        WeightLayout.Head<Tensor, Tensor> head = which == SynergyHead.TEMPORAL ? weights.heads.temporal() : weights.heads.spatial();
        if (head == null) throw new IllegalStateException("checkpoint has no synergy_heads." + which.name().toLowerCase() + " weights");
        int hidden = dims.text().hidden();
        if (finalHidden.length != (long) n * hidden) {
            throw new IllegalArgumentException("synergy head input has " + finalHidden.length + " values, expected " + n + " x " + hidden);
        }
        try (Workspace ws = backend.workspace()) {
            Tensor x = ws.f32(finalHidden, n, hidden);
            Tensor mid = ws.f32(n, head.fc1().weight().rows());                 // [n, mid]
            backend.matmul(x, head.fc1().weight(), head.fc1().bias(), mid);
            backend.gelu(mid, mid);
            Tensor out = ws.f32(n, head.fc2().weight().rows());                 // [n, out]
            backend.matmul(mid, head.fc2().weight(), head.fc2().bias(), out);
            return backend.download(out);
        }
    }

    @Override
    public void close() {
        weights.close();
        if (checkpoint != null) checkpoint.close();
    }
}

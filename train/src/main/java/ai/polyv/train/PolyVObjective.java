package ai.polyv.train;

import ai.polyv.train.autograd.Param;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.SynergyConfig;
import ai.polyv.loader.layout.Binder;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.layout.WeightLayout.Decoder;
import ai.polyv.loader.layout.WeightLayout.DecoderLayer;
import ai.polyv.loader.layout.WeightLayout.Dense;
import ai.polyv.loader.layout.WeightLayout.Linear;
import ai.polyv.loader.layout.WeightLayout.Moe;
import ai.polyv.loader.layout.WeightLayout.SwiGlu;
import ai.polyv.core.cpu.CpuThreads;
import ai.polyv.core.model.ModelDims;
import ai.polyv.core.model.MropePositions;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.RopeTables;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.model.WeightSource;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.train.autograd.Tape;
import ai.polyv.train.autograd.Var;
import ai.polyv.train.autograd.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PolyV's training objective (docs/spec.md §2) over a loaded {@link PolyVModel}:
 * {@code total = w_ce*CE + w_t*MSE_t + w_s*MSE_s + aux_coef * sum_layers L_aux}.
 *
 * <p>The forward is the maths of {@code Session.prefill} on a {@link Tape}: input embeddings (token rows
 * with the vision encoder's rows in the placeholders; both constants: the vision encoder runs forward
 * only, frozen), then every decoder layer (RMSNorm, q/k/v, M-RoPE, causal GQA attention, o, residual,
 * RMSNorm, dense SwiGLU or MoE), final RMSNorm, lm_head on the rows that carry a label, cross-entropy;
 * the layers are the model's {@link WeightLayout} (the same records, names and shapes as the inference
 * {@code TextDecoder}), bound by a {@link Binder} to autograd weights;
 * the synergy rows of the final hidden states feed both alignment heads (fc1 -> GELU -> fc2) against
 * the teacher features. Trainable weights (chosen by {@link TrainStage}) are float32 host copies held in
 * {@link #params()}; every frozen matrix is read in place from the checkpoint tensors (any dtype).
 * Gradients flow through all decoder layers (activations), never into frozen weights.
 *
 * <p>Alignment heads missing from the checkpoint are created from {@code config.synergy.heads} with
 * PyTorch's {@code nn.Linear} default distribution, {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))} for
 * weights and biases, drawn from one {@link SplittableRandom} seeded with {@code headSeed} in the order
 * temporal fc1.weight, fc1.bias, fc2.weight, fc2.bias, then spatial (same order), row-major.
 *
 * <p>Not thread-safe; close it to stop its worker threads.
 */
public final class PolyVObjective implements TrainingObjective, AutoCloseable {

    /** Weights of the loss terms; {@code aux} multiplies the load-balancing loss summed over MoE layers. */
    public record LossWeights(double ce, double mseTemporal, double mseSpatial, double aux) {
        /** docs/spec.md §2 weights: 1, 1, 1 and {@code moe.aux_loss_coef} (0 for a dense model). */
        public static LossWeights fromConfig(PolyVConfig c) {
            return new LossWeights(1, 1, 1, c.moe() == null ? 0 : c.moe().auxLossCoef());
        }
    }

    /** Default seed of freshly created alignment heads. */
    public static final long DEFAULT_HEAD_SEED = 0x5EED_2603L;

    private record Head(Linear<Weight, Var> fc1, Linear<Weight, Var> fc2, int out) {}

    private final PolyVModel model;
    private final ModelDims dims;
    private final LossWeights lossWeights;
    private final TrainStage stage;
    private final int synergyTokenId;                   // -1: none
    private final CpuThreads pool;
    private Owned owned; // model and backend opened by open(...), closed with this objective
    private final WeightSource src;
    private final Map<String, Param> params = new LinkedHashMap<>(); // filled while the weights are read
    private final List<Param> paramList;                              // params in that order, fixed
    private final Decoder<Weight, Var> decoder;          // the model's layout bound to autograd weights
    private final Head temporal, spatial;                // null when there are no heads

    private PolyVObjective(PolyVModel model, TrainStage stage, LossWeights lossWeights, int threads, long headSeed) {
        this.model = model;
        this.dims = model.dims();
        this.stage = stage;
        this.lossWeights = lossWeights;
        this.src = model.weightSource();
        PolyVConfig cfg = model.config();
        this.synergyTokenId = cfg.synergy() == null ? -1 : cfg.synergy().tokenId();
        ModelDims.Text tc = dims.text();
        int h = tc.hidden();
        WeightLayout<TensorSpec, TensorSpec> layout = model.layout();
        TrainBinder bind = new TrainBinder();
        this.decoder = bind.decoder(layout.decoder());
        SplittableRandom rng = new SplittableRandom(headSeed);
        SynergyConfig syn = cfg.synergy();
        this.temporal = head(bind, layout.heads().temporal(), syn == null ? null : syn.temporal(), h, rng);
        this.spatial = head(bind, layout.heads().spatial(), syn == null ? null : syn.spatial(), h, rng);
        this.paramList = List.copyOf(params.values());
        this.pool = threads > 1 ? new CpuThreads(threads) : null;
    }

    /**
     * The objective of {@code stage} over {@code model} (which must stay open while this is used), with
     * {@code threads} participants for its loops (1 = serial) and {@code headSeed} for heads the
     * checkpoint lacks.
     */
    public static PolyVObjective create(PolyVModel model, TrainStage stage, LossWeights lossWeights, int threads, long headSeed) {
        return new PolyVObjective(model, stage, lossWeights, threads, headSeed);
    }

    public static PolyVObjective create(PolyVModel model, TrainStage stage) {
        return create(model, stage, LossWeights.fromConfig(model.config()), Runtime.getRuntime().availableProcessors(), DEFAULT_HEAD_SEED);
    }

    public TrainStage stage() {
        return stage;
    }

    public LossWeights lossWeights() {
        return lossWeights;
    }

    @Override
    public List<Param> params() {
        return paramList;
    }

    // ------------------------------------------------------------------ weights

    /**
     * The training binder: a trainable tensor ({@link TrainStage#trainable}) becomes a float32 host param, a
     * frozen matrix is read in place ({@link Weight.Frozen}), a frozen vector is a host constant.
     */
    private final class TrainBinder implements Binder<Weight, Var> {
        @Override
        public boolean has(String name) {
            return src.has(name);
        }

        @Override
        public long[] shape(String name) {
            return src.get(name).shape();
        }

        @Override
        public Weight matrix(TensorSpec spec) {
            Tensor t = tensor(spec.name());
            return stage.trainable(spec.name()) ? new Weight.Host(trainable(spec.name(), t.shape(), t.toFloatArray())) : new Weight.Frozen(t);
        }

        @Override
        public Var vector(TensorSpec spec) {
            Tensor t = tensor(spec.name());
            return stage.trainable(spec.name()) ? trainable(spec.name(), t.shape(), t.toFloatArray())
                    : Var.constant(t.toFloatArray(), 1, (int) t.numel());
        }

        @Override
        public String describe() {
            return src.describe();
        }

        @Override
        public String storedName(String name) {
            return src.naming().stored(name);
        }
    }

    private Tensor tensor(String name) {
        WeightSource.Raw r = src.get(name);
        return new Tensor(r.dtype(), r.data(), r.shape());
    }

    /** A param over {@code value} seen as {@code [shape[0], rest]} (1-D: {@code [1, n]}). */
    private Var trainable(String name, long[] shape, float[] value) {
        Param p = Param.zeroGrad(name, shape, value);
        params.put(name, p);
        return shape.length == 1 ? Var.of(p, 1, value.length) : Var.of(p, (int) shape[0], value.length / (int) shape[0]);
    }

    /** The checkpoint's head when it has one, else a fresh one sized by the config (null without a size). */
    private Head head(TrainBinder bind, WeightLayout.Head<TensorSpec, TensorSpec> spec, SynergyConfig.HeadSize size, int hidden, SplittableRandom rng) {
        if (src.has(spec.fc1().weight().name())) {
            WeightLayout.Head<Weight, Var> h = bind.head(spec);
            return new Head(h.fc1(), h.fc2(), h.fc2().weight().out());
        }
        if (size == null) return null;
        Linear<Weight, Var> fc1 = initLinear(spec.fc1().weight().name(), spec.fc1().bias().name(), size.hiddenSize(), hidden, rng);
        Linear<Weight, Var> fc2 = initLinear(spec.fc2().weight().name(), spec.fc2().bias().name(), size.outSize(), size.hiddenSize(), rng);
        return new Head(fc1, fc2, size.outSize());
    }

    private Linear<Weight, Var> initLinear(String wn, String bn, int out, int in, SplittableRandom rng) {
        double bound = 1 / Math.sqrt(in);
        float[] w = new float[out * in], b = new float[out];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextDouble(-bound, bound);
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-bound, bound);
        Weight wt = new Weight.Host(stage.trainable(wn) ? trainable(wn, new long[] {out, in}, w) : Var.constant(w, out, in));
        Var bv = stage.trainable(bn) ? trainable(bn, new long[] {out}, b) : Var.constant(b, 1, out);
        return new Linear<>(wt, bv);
    }

    // ------------------------------------------------------------------ forward / backward

    @Override
    public StepLosses forwardBackward(TrainExample example) {
        Tape tape = new Tape(pool);
        Forward f = forward(tape, example);
        tape.backward(f.total);
        return f.losses;
    }

    /** The losses of {@code example} at the current parameter values, without touching any gradient. */
    public StepLosses losses(TrainExample example) {
        return forward(new Tape(pool), example).losses;
    }

    private record Forward(Var total, StepLosses losses) {}

    private Forward forward(Tape tape, TrainExample ex) {
        ModelDims.Text tc = dims.text();
        int[] ids = ex.inputIds();
        int n = ids.length, hidden = tc.hidden(), hd = tc.headDim();
        if (n == 0) throw new IllegalArgumentException("training example has no tokens");
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= tc.vocab()) throw new IllegalArgumentException("input id " + ids[i] + " at position " + i + " is outside the vocabulary [0, " + tc.vocab() + ")");
        }
        MropePositions mp = MropePositions.compute(ids, ex.vision(), dims);

        // input embeddings: token rows, vision rows in the placeholders (frozen table, frozen encoder: constants)
        Var x = tape.embedding(decoder.embedTokens(), ids);
        for (int s = 0; s < ex.vision().size(); s++) {
            VisionInput in = ex.vision().get(s);
            float[] rows = model.encodeVision(in).rows();                   // [merged, hidden], vision forward only
            int[] at = new int[rows.length / hidden];
            for (int j = 0; j < at.length; j++) at[j] = mp.segments()[s] + j;
            x = tape.replaceRows(x, Var.constant(rows, at.length, hidden), at);
        }
        float[] cos = new float[n * hd], sin = new float[n * hd];
        RopeTables.mrope(mp.pos(), 0, n, tc.ropeTheta(), tc.mropeSection(), hd, cos, sin);

        List<Var> auxTerms = new ArrayList<>();
        double auxSum = 0;
        for (DecoderLayer<Weight, Var> lw : decoder.layers()) {
            Var h = tape.rmsNorm(x, lw.inputNorm().value(), tc.rmsNormEps());
            Var q = tape.rope(lin(tape, h, lw.q()), tc.heads(), cos, sin);
            Var k = tape.rope(lin(tape, h, lw.k()), tc.kvHeads(), cos, sin);
            Var v = lin(tape, h, lw.v());
            x = tape.add(x, lin(tape, tape.attention(q, k, v, tc.heads(), tc.kvHeads()), lw.o()));
            h = tape.rmsNorm(x, lw.postNorm().value(), tc.rmsNormEps());
            Var y = switch (lw.ffn()) {
                case Dense<Weight, Var> dense -> ffn(tape, h, dense.mlp());
                case Moe<Weight, Var> moe -> {
                    Var[] aux = new Var[1];
                    Var out = moe(tape, h, moe, aux);
                    auxTerms.add(aux[0]);
                    auxSum += aux[0].scalar();
                    yield out;
                }
            };
            x = tape.add(x, y);
        }
        Var fin = tape.rmsNorm(x, decoder.norm().value(), tc.rmsNormEps());

        // cross-entropy: logits at j predict labels[j+1]; lm_head only on the rows that count
        int[] labels = ex.labels();
        List<Integer> ceRows = new ArrayList<>();
        for (int j = 0; j + 1 < n; j++) {
            int t = labels[j + 1];
            if (t == TrainExample.IGNORE_INDEX) continue;
            if (t < 0 || t >= tc.vocab()) throw new IllegalArgumentException("label " + t + " at position " + (j + 1) + " is outside [0, " + tc.vocab() + ") and not -100");
            ceRows.add(j);
        }
        int[] rowsCe = ceRows.stream().mapToInt(Integer::intValue).toArray();
        int[] targets = new int[rowsCe.length];
        for (int i = 0; i < rowsCe.length; i++) targets[i] = labels[rowsCe[i] + 1];
        Var ce = tape.crossEntropy(tape.linear(tape.gatherRows(fin, rowsCe), decoder.lmHead(), null), targets);

        // alignment heads on the synergy rows
        int[] syn = synergyRows(ids);
        Var mseT = alignment(tape, fin, syn, temporal, ex.teacherTemporal(), "temporal");
        Var mseS = alignment(tape, fin, syn, spatial, ex.teacherSpatial(), "spatial");

        Var[] terms = new Var[3 + auxTerms.size()];
        double[] w = new double[terms.length];
        terms[0] = ce;
        terms[1] = mseT;
        terms[2] = mseS;
        w[0] = lossWeights.ce();
        w[1] = lossWeights.mseTemporal();
        w[2] = lossWeights.mseSpatial();
        for (int i = 0; i < auxTerms.size(); i++) {
            terms[3 + i] = auxTerms.get(i);
            w[3 + i] = lossWeights.aux();
        }
        Var total = tape.weightedSum(terms, w);
        return new Forward(total, new StepLosses(ce.scalar(), mseT.scalar(), mseS.scalar(), auxSum, total.scalar(), rowsCe.length));
    }

    private int[] synergyRows(int[] ids) {
        if (synergyTokenId < 0) return new int[0];
        return java.util.stream.IntStream.range(0, ids.length).filter(i -> ids[i] == synergyTokenId).toArray();
    }

    /** MSE of a head on the synergy rows against the teacher rows; a zero constant when there is no teacher. */
    private Var alignment(Tape tape, Var fin, int[] syn, Head head, float[] teacher, String which) {
        if (teacher == null) return Var.constant(new float[1], 1, 1);
        if (head == null) throw new IllegalArgumentException("example has " + which + " teacher features but the model has no synergy_heads." + which
                + " (checkpoint) nor synergy.heads." + which + " (config)");
        if (teacher.length != syn.length * head.out()) {
            throw new IllegalArgumentException("teacher " + which + " features have " + teacher.length + " values, expected " + syn.length
                    + " synergy tokens x " + head.out());
        }
        if (syn.length == 0) return Var.constant(new float[1], 1, 1);
        Var f = tape.gatherRows(fin, syn);
        Var out = lin(tape, tape.gelu(lin(tape, f, head.fc1())), head.fc2());
        return tape.mse(out, teacher);
    }

    private static Var lin(Tape tape, Var x, Linear<Weight, Var> l) {
        return tape.linear(x, l.weight(), l.bias());
    }

    private static Var ffn(Tape tape, Var x, SwiGlu<Weight, Var> f) {
        return lin(tape, tape.swiglu(lin(tape, x, f.gate()), lin(tape, x, f.up())), f.down());
    }

    /**
     * MoE FFN as named stages: router linear -> softmax -> top-k (weights, optional renormalisation) ->
     * dispatch (gather rows per expert, stable by token) -> experts -> weighted combine; {@code aux[0]}
     * receives the layer's load-balancing loss.
     */
    private Var moe(Tape tape, Var h, Moe<Weight, Var> m, Var[] aux) {
        ModelDims.Moe cfg = dims.moe();
        int n = h.rows(), k = cfg.topK(), experts = cfg.numExperts();
        Var p = tape.softmax(tape.linear(h, m.router(), null));                     // [n, M]
        Tape.Routing r = tape.topK(p, k, cfg.normTopkProb());               // ids, weights [n, k]
        aux[0] = tape.loadBalance(p);
        TokenPermutation perm = TokenPermutation.of(n, k, experts, r.ids(), r.weights().value());
        Var[] outs = new Var[experts];
        int[][] tokens = new int[experts][], slots = new int[experts][];
        for (int e = 0; e < experts; e++) {
            tokens[e] = perm.tokensOf(e);
            slots[e] = new int[tokens[e].length];
            for (int i = 0; i < tokens[e].length; i++) {
                int t = tokens[e][i], j = 0;
                while (r.ids()[t * k + j] != e) j++;
                slots[e][i] = j;
            }
            if (tokens[e].length > 0) outs[e] = ffn(tape, tape.gatherRows(h, tokens[e]), m.experts().get(e));
        }
        return tape.moeCombine(outs, tokens, slots, r.weights(), h.cols());
    }

    @Override
    public void close() {
        if (pool != null) pool.close();
        if (owned != null) owned.close();
    }

    /** Losses of one example without a backward pass (held-out evaluation). */
    @Override
    public StepLosses evaluate(TrainExample example) {
        return losses(example);
    }

    /**
     * Loads the checkpoint folder on the named backend and returns the objective of {@code stage} over it;
     * closing the objective closes the model and the backend.
     */
    public static PolyVObjective open(java.nio.file.Path modelDir, TrainStage stage, String backend) {
        ai.polyv.core.backend.Backend be = ai.polyv.core.backend.Backend.named(backend);
        PolyVModel m = null;
        try {
            m = PolyVModel.load(modelDir, be);
            PolyVObjective o = create(m, stage);
            o.owned = new Owned(m, be);
            return o;
        } catch (RuntimeException e) {
            if (m != null) m.close();
            be.close();
            throw e;
        }
    }

    private record Owned(PolyVModel model, ai.polyv.core.backend.Backend backend) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            backend.close();
        }
    }
}

package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.layout.WeightLayout.DecoderLayer;
import java.util.Arrays;
import java.util.List;

/**
 * The Qwen2 text decoder with PolyV's MoE layers (docs/spec.md §1-2), read top to bottom in {@link #forward}:
 * per layer RMSNorm -> q/k/v -> M-RoPE -> causal GQA attention over the KV cache -> o -> residual -> RMSNorm
 * -> FFN (dense SwiGLU or MoE) -> residual; then the final RMSNorm and lm_head. The KV cache and the positions
 * belong to {@link Session}; this class holds only the weights. Immutable.
 */
final class TextDecoder {

    /** Bound decoder weights (the {@link WeightLayout.Decoder} of the model's layout). */
    record Weights(Tensor embedTokens,                              // [vocab, hidden]
                   List<DecoderLayer<Tensor, Tensor>> layers,       // norms [hidden]; q [heads*hd, hidden], k/v [kvHeads*hd, hidden], o [hidden, heads*hd]
                   Tensor finalNorm,                                // [hidden]
                   Tensor lmHead) {                                 // [vocab, hidden] (the embedding when tied)
        Weights(WeightLayout.Decoder<Tensor, Tensor> d) {
            this(d.embedTokens(), d.layers(), d.norm(), d.lmHead());
        }
    }

    /** One sequence's KV cache: per layer {@code k[l], v[l] [maxTokens, kvHeads*headDim]}. */
    record KvCache(Tensor[] k, Tensor[] v) {}

    /**
     * Rows {@code [row, row+count)} of a forward batch belong to one sequence: they go to its cache rows
     * {@code [cached, cached+count)}, attend to its rows {@code [0, cached+count)}, and their routing is counted
     * in {@code stats}.
     */
    record Segment(KvCache cache, int cached, int row, int count, RoutingStats stats) {}

    private final ModelDims dims;
    private final Backend be;
    private final Weights w;

    TextDecoder(ModelDims dims, Weights w, Backend be) {
        this.dims = dims;
        this.w = w;
        this.be = be;
    }

    /** Token embeddings {@code x [ids, hidden]}. */
    void embed(int[] ids, Tensor x) {
        be.embedding(w.embedTokens(), ids, x);
    }

    /**
     * Decoder over {@code x [n, hidden]} (overwritten: the residual stream), whose rows are split into
     * {@code segments}, with M-RoPE positions {@code pos [3][n]} and each row's modality {@code mod [n]} (for the
     * routing statistics); returns the logits of each segment's last row {@code [segments][vocab]} (and traces
     * everything, one segment only, when {@code trace != null}). One segment writes K and V straight into its
     * cache; several project into a batch buffer and copy each segment's rows into its own cache.
     */
    float[][] forward(Workspace ws, Tensor x, long[][] pos, List<Segment> segments, RoutingStats.Modality[] mod, ForwardTrace trace) {
        ModelDims.Text tc = dims.text();
        int n = x.rows(), hidden = tc.hidden(), hd = tc.headDim(), heads = tc.heads(), kvh = tc.kvHeads();
        float eps = tc.rmsNormEps();
        boolean single = segments.size() == 1;
        if (trace != null && !single) throw new IllegalArgumentException("a traced forward covers one session");
        float[] cos = new float[n * hd], sin = new float[n * hd];                // [n, hd]
        RopeTables.mrope(pos, 0, n, tc.ropeTheta(), tc.mropeSection(), hd, cos, sin);
        Tensor cosT = ws.f32(cos, n, hd), sinT = ws.f32(sin, n, hd);
        Tensor h = ws.f32(n, hidden);                                           // [n, hidden] normed input of a sub-layer
        Tensor q = ws.f32(n, (long) heads * hd), attn = ws.f32(n, (long) heads * hd);   // [n, heads*hd]
        Tensor tmp = ws.f32(n, hidden);                                         // [n, hidden] sub-layer output
        Tensor kBatch = single ? null : ws.f32(n, (long) kvh * hd), vBatch = single ? null : ws.f32(n, (long) kvh * hd);
        Segment s0 = segments.get(0);
        for (int l = 0; l < tc.layers(); l++) {
            DecoderLayer<Tensor, Tensor> lw = w.layers().get(l);
            // attention
            be.rmsNorm(x, lw.inputNorm(), eps, h);
            // [n, kvh*hd]: a view into the one segment's cache, or the batch buffer
            Tensor k = single ? s0.cache().k()[l].rows(s0.cached(), n) : kBatch;
            Tensor v = single ? s0.cache().v()[l].rows(s0.cached(), n) : vBatch;
            be.matmul(h, lw.q().weight(), lw.q().bias(), q);
            be.matmul(h, lw.k().weight(), lw.k().bias(), k);
            be.matmul(h, lw.v().weight(), lw.v().bias(), v);
            be.rope(q, heads, cosT, sinT);
            be.rope(k, kvh, cosT, sinT);
            for (Segment seg : segments) {
                Tensor kc = seg.cache().k()[l], vc = seg.cache().v()[l];
                if (!single) {   // the segment's rows into its cache rows [cached, cached+count)
                    be.copy(k.rows(seg.row(), seg.count()), kc.rows(seg.cached(), seg.count()));
                    be.copy(v.rows(seg.row(), seg.count()), vc.rows(seg.cached(), seg.count()));
                }
                be.attentionCausal(single ? q : q.rows(seg.row(), seg.count()), kc, vc,
                        single ? attn : attn.rows(seg.row(), seg.count()), heads, kvh, seg.cached());
            }
            be.matmul(attn, lw.o().weight(), null, tmp);
            be.add(x, tmp, x);
            // feed-forward
            be.rmsNorm(x, lw.postNorm(), eps, h);
            switch (lw.ffn()) {
                case WeightLayout.Dense<Tensor, Tensor> dense -> Mlp.swiglu(be, dense.mlp(), h, tmp);
                case WeightLayout.Moe<Tensor, Tensor> moe -> {
                    MoeRouter.Routing r = MoeLayer.forward(be, moe, dims.moe(), h, tmp);
                    for (Segment seg : segments) seg.stats().record(l, r, mod, seg.row(), seg.count());
                    if (trace != null) {
                        trace.floats("moe." + l + ".router_logits", r.logits(), n, r.numExperts());
                        trace.ints("moe." + l + ".topk_ids", r.ids(), n, r.k());
                        trace.floats("moe." + l + ".topk_weights", r.weights(), n, r.k());
                    }
                }
            }
            be.add(x, tmp, x);
            if (trace != null) trace.floats("hidden." + l, be.download(x), n, hidden);
        }
        // the rows whose logits are wanted: every row when traced, else each segment's last row
        Tensor last = lastRows(ws, x, segments, trace != null);
        int rows = last.rows();
        Tensor fin = ws.f32(rows, hidden);
        be.rmsNorm(last, w.finalNorm(), eps, fin);
        Tensor logits = ws.f32(rows, tc.vocab());                               // [rows, vocab]
        be.matmul(fin, w.lmHead(), null, logits);
        float[] all = be.download(logits);
        if (trace != null) {
            trace.floats("final_hidden", be.download(fin), rows, hidden);
            trace.floats("logits", all, rows, tc.vocab());
            return new float[][] {Arrays.copyOfRange(all, (rows - 1) * tc.vocab(), rows * tc.vocab())};
        }
        float[][] out = new float[rows][];
        for (int i = 0; i < rows; i++) out[i] = Arrays.copyOfRange(all, i * tc.vocab(), (i + 1) * tc.vocab());
        return out;
    }

    /** {@code x} itself ({@code all}), or each segment's last row {@code [segments, hidden]} (a view when they are consecutive). */
    private Tensor lastRows(Workspace ws, Tensor x, List<Segment> segments, boolean all) {
        if (all) return x;
        if (segments.size() == 1) return x.rows(x.rows() - 1, 1);
        int[] lastRows = new int[segments.size()];
        for (int i = 0; i < lastRows.length; i++) lastRows[i] = segments.get(i).row() + segments.get(i).count() - 1;
        boolean consecutive = true;
        for (int i = 1; i < lastRows.length; i++) consecutive &= lastRows[i] == lastRows[0] + i;
        if (consecutive) return x.rows(lastRows[0], lastRows.length);
        Tensor last = ws.f32(lastRows.length, x.cols());
        be.gatherRows(x, lastRows, last);
        return last;
    }
}

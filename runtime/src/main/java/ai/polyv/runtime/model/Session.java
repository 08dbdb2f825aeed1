package ai.polyv.runtime.model;

import ai.polyv.runtime.backend.Backend;
import ai.polyv.runtime.backend.Workspace;
import ai.polyv.runtime.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * One generation: a prompt prefill followed by single-token decode steps over a KV cache of
 * {@code maxTokens} rows per layer. Not thread-safe. Close it to free the cache.
 */
public final class Session implements AutoCloseable {
    private final PolyVModel model;
    private final ModelDims dims;
    private final Backend be;
    private final int maxTokens;
    private final Workspace cacheSpace;
    private final Tensor[] kCache; // per layer [maxTokens, kvHeads*headDim]
    private final Tensor[] vCache;
    private final RoutingStats stats;
    private int length;
    private long nextPos;
    private boolean prefilled;
    private long visionNanos;

    Session(PolyVModel model, int maxTokens) {
        this.model = model;
        this.dims = model.dims();
        this.be = model.backend();
        ModelDims.Text tc = dims.text();
        if (maxTokens <= 0 || maxTokens > tc.maxPositions()) {
            throw new IllegalArgumentException("maxTokens " + maxTokens + " must be in [1, max_position_embeddings = " + tc.maxPositions() + "]");
        }
        this.maxTokens = maxTokens;
        this.cacheSpace = be.workspace();
        this.kCache = new Tensor[tc.layers()];
        this.vCache = new Tensor[tc.layers()];
        for (int l = 0; l < tc.layers(); l++) {
            kCache[l] = cacheSpace.f32(maxTokens, (long) tc.kvHeads() * tc.headDim());
            vCache[l] = cacheSpace.f32(maxTokens, (long) tc.kvHeads() * tc.headDim());
        }
        this.stats = dims.moe() == null ? new RoutingStats(new int[0], 0) : new RoutingStats(dims.moe().layers(), dims.moe().numExperts());
    }

    /** Prefill; returns the logits of the last position {@code [vocab]}. */
    public float[] prefill(int[] inputIds, List<VisionInput> visionInputs) {
        return prefill(inputIds, visionInputs, null);
    }

    /**
     * Prefill with a trace receiving every intermediate (then the logits of all positions are computed
     * and traced as {@code logits}); returns the logits of the last position {@code [vocab]}.
     */
    public float[] prefill(int[] inputIds, List<VisionInput> visionInputs, ForwardTrace trace) {
        if (prefilled) throw new IllegalStateException("session already prefilled; start a new session for a new prompt");
        int n = inputIds.length;
        if (n == 0) throw new IllegalArgumentException("empty prompt");
        if (n > maxTokens) throw new IllegalArgumentException("prompt of " + n + " tokens exceeds the session's maxTokens " + maxTokens);
        checkIds(inputIds, 0);
        List<VisionInput> inputs = visionInputs == null ? List.of() : visionInputs;
        MropePositions mp = MropePositions.compute(inputIds, inputs, dims);
        if (mp.next() + (maxTokens - n) > dims.text().maxPositions()) {
            throw new IllegalArgumentException("positions up to " + (mp.next() + maxTokens - n - 1) + " would exceed max_position_embeddings "
                    + dims.text().maxPositions());
        }
        if (trace != null) {
            int[] flat = new int[3 * n];
            for (int a = 0; a < 3; a++) for (int i = 0; i < n; i++) flat[a * n + i] = Math.toIntExact(mp.pos()[a][i]);
            trace.ints("position_ids", flat, 3, n);
            trace.ints("rope_delta", new int[] {Math.toIntExact(mp.ropeDelta())}, 1);
        }
        RoutingStats.Modality[] mod = modalities(inputIds);
        int hidden = dims.text().hidden();
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(n, hidden);
            be.embedding(model.weights().embedTokens, inputIds, x);
            for (int s = 0; s < inputs.size(); s++) {
                VisionInput in = inputs.get(s);
                int m = model.vision().mergedTokens(in);
                Tensor rows = ws.f32(m, hidden);
                long tv = System.nanoTime();
                model.vision().encode(in, ws, rows, trace);
                visionNanos += System.nanoTime() - tv;
                int[] at = new int[m];
                for (int j = 0; j < m; j++) at[j] = mp.segments()[s] + j;
                be.scatterRows(rows, at, x);
                if (trace != null) trace.floats((in.kind() == VisionInput.Kind.IMAGE ? "image" : "video") + ".embeds#" + s, be.download(rows), m, hidden);
            }
            if (trace != null) trace.floats("inputs_embeds", be.download(x), n, hidden);
            float[] logits = forward(ws, x, mp.pos(), 0, mod, trace);
            prefilled = true;
            length = n;
            nextPos = mp.next();
            return logits;
        }
    }

    /** One decode step: feeds {@code tokenId} at the next position; returns its logits {@code [vocab]}. */
    public float[] decode(int tokenId) {
        if (!prefilled) throw new IllegalStateException("decode before prefill");
        if (length >= maxTokens) throw new IllegalArgumentException("session is full: " + length + " tokens = maxTokens");
        checkIds(new int[] {tokenId}, length);
        long[][] pos = {{nextPos}, {nextPos}, {nextPos}};
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(1, dims.text().hidden());
            be.embedding(model.weights().embedTokens, new int[] {tokenId}, x);
            float[] logits = forward(ws, x, pos, length, modalities(new int[] {tokenId}), null);
            length++;
            nextPos++;
            return logits;
        }
    }

    /** Tokens in the cache (prompt + decoded). */
    public int length() {
        return length;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Wall time the prefill spent in the vision encoder (0 before the prefill or without vision inputs). */
    public long visionNanos() {
        return visionNanos;
    }

    public RoutingStats routingStats() {
        return stats;
    }

    private void checkIds(int[] ids, int offset) {
        int vocab = dims.text().vocab();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + (offset + i) + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    private RoutingStats.Modality[] modalities(int[] ids) {
        RoutingStats.Modality[] m = new RoutingStats.Modality[ids.length];
        for (int i = 0; i < ids.length; i++) {
            m[i] = ids[i] == dims.tokens().imageTokenId() ? RoutingStats.Modality.IMAGE
                    : ids[i] == dims.tokens().videoTokenId() ? RoutingStats.Modality.VIDEO : RoutingStats.Modality.TEXT;
        }
        return m;
    }

    /**
     * Decoder over {@code x [n, hidden]} at cache rows {@code [start, start+n)} with positions
     * {@code pos[3][n]}; returns the last row's logits (and traces everything when {@code trace != null}).
     */
    private float[] forward(Workspace ws, Tensor x, long[][] pos, int start, RoutingStats.Modality[] mod, ForwardTrace trace) {
        ModelDims.Text tc = dims.text();
        ModelWeights w = model.weights();
        int n = x.rows(), hidden = tc.hidden(), hd = tc.headDim(), heads = tc.heads(), kvh = tc.kvHeads();
        float[] cos = new float[n * hd], sin = new float[n * hd];
        RopeTables.mrope(pos, 0, n, tc.ropeTheta(), tc.mropeSection(), hd, cos, sin);
        Tensor cosT = ws.f32(cos, n, hd), sinT = ws.f32(sin, n, hd);
        Tensor h = ws.f32(n, hidden), q = ws.f32(n, (long) heads * hd), attn = ws.f32(n, (long) heads * hd), tmp = ws.f32(n, hidden);
        for (int l = 0; l < tc.layers(); l++) {
            ModelWeights.Layer lw = w.layers.get(l);
            be.rmsNorm(x, lw.inputNorm(), tc.rmsNormEps(), h);
            Tensor k = kCache[l].rows(start, n), v = vCache[l].rows(start, n);   // [n, kvh*hd] views into the cache
            be.matmul(h, lw.q().w(), lw.q().b(), q);
            be.matmul(h, lw.k().w(), lw.k().b(), k);
            be.matmul(h, lw.v().w(), lw.v().b(), v);
            be.rope(q, heads, cosT, sinT);
            be.rope(k, kvh, cosT, sinT);
            be.attentionCausal(q, kCache[l], vCache[l], attn, heads, kvh, start);
            be.matmul(attn, lw.o().w(), null, tmp);
            be.add(x, tmp, x);
            be.rmsNorm(x, lw.postNorm(), tc.rmsNormEps(), h);
            if (lw.moe() != null) {
                MoeRouter.Routing r = MoeLayer.forward(be, lw.moe(), dims.moe(), h, tmp);
                stats.record(l, r, mod);
                if (trace != null) {
                    trace.floats("moe." + l + ".router_logits", r.logits(), n, r.numExperts());
                    trace.ints("moe." + l + ".topk_ids", r.ids(), n, r.k());
                    trace.floats("moe." + l + ".topk_weights", r.weights(), n, r.k());
                }
            } else {
                Mlp.swiglu(be, lw.mlp(), h, tmp);
            }
            be.add(x, tmp, x);
            if (trace != null) trace.floats("hidden." + l, be.download(x), n, hidden);
        }
        int from = trace != null ? 0 : n - 1, rows = n - from;
        Tensor last = x.rows(from, rows);
        Tensor fin = ws.f32(rows, hidden);
        be.rmsNorm(last, w.finalNorm, tc.rmsNormEps(), fin);
        Tensor logits = ws.f32(rows, tc.vocab());
        be.matmul(fin, w.lmHead, null, logits);
        float[] all = be.download(logits);
        if (trace != null) {
            trace.floats("final_hidden", be.download(fin), rows, hidden);
            trace.floats("logits", all, rows, tc.vocab());
        }
        return Arrays.copyOfRange(all, (rows - 1) * tc.vocab(), rows * tc.vocab());
    }

    @Override
    public void close() {
        cacheSpace.close();
    }
}

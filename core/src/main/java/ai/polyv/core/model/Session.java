package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One generation: a prompt prefill followed by single-token decode steps over a KV cache of
 * {@code maxTokens} rows per layer; {@link #decode(List, int[])} steps several sessions together. A session
 * keeps the KV cache, the tokens and the M-RoPE positions; the layers are {@link TextDecoder}'s.
 * Not thread-safe. Close it to free the cache.
 */
public final class Session implements AutoCloseable {
    private final PolyVModel model;
    private final ModelDims dims;
    private final Backend be;
    private final int maxTokens;
    private final Workspace cacheSpace;
    private final TextDecoder.KvCache cache; // per layer k, v [maxTokens, kvHeads*headDim]
    private final RoutingStats stats;
    private int length;
    private long nextPos;
    private boolean prefilled;
    private boolean closed;
    private long visionNanos;
    private final int[] ids;              // [maxTokens] the token of each cache row
    private final long[] nextAfter;       // [maxTokens] the position a text token after row i would get
    private List<VisionInput> vision = List.of();   // inputs whose placeholder runs are in the cache
    private int[] visionStarts = new int[0];        // first row of each run

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
        Tensor[] k = new Tensor[tc.layers()], v = new Tensor[tc.layers()];
        for (int l = 0; l < tc.layers(); l++) {
            k[l] = cacheSpace.f32(maxTokens, (long) tc.kvHeads() * tc.headDim());
            v[l] = cacheSpace.f32(maxTokens, (long) tc.kvHeads() * tc.headDim());
        }
        this.cache = new TextDecoder.KvCache(k, v);
        this.stats = dims.moe() == null ? new RoutingStats(new int[0], 0) : new RoutingStats(dims.moe().layers(), dims.moe().numExperts());
        this.ids = new int[maxTokens];
        this.nextAfter = new long[maxTokens];
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
        return prefill(List.of(this), List.of(inputIds), List.of(visionInputs == null ? List.of() : visionInputs), trace)[0];
    }

    /**
     * Prefills several fresh sessions of the same model in one pass: their prompts are stacked into one
     * {@code [sum n, hidden]} batch, so the projections, MoE and lm_head run once for all of them (short
     * prompts fill the matmuls that one alone would leave idle); vision inputs are encoded one by one and
     * attention runs per session. Returns each prompt's last-position logits {@code [sessions][vocab]}.
     * Checks every session and prompt before anything runs.
     */
    public static float[][] prefill(List<Session> sessions, List<int[]> inputIds, List<List<VisionInput>> visionInputs) {
        return prefill(sessions, inputIds, visionInputs, null);
    }

    private static float[][] prefill(List<Session> sessions, List<int[]> inputIds, List<List<VisionInput>> visionInputs, ForwardTrace trace) {
        int b = sessions.size();
        if (b == 0) throw new IllegalArgumentException("empty prefill batch");
        if (inputIds.size() != b || visionInputs.size() != b) {
            throw new IllegalArgumentException("prefill of " + b + " sessions got " + inputIds.size() + " prompts and " + visionInputs.size()
                    + " vision lists");
        }
        Session first = sessions.get(0);
        checkMembers(sessions, "prefill");
        MropePositions[] mps = new MropePositions[b];
        int total = 0;
        for (int i = 0; i < b; i++) {
            Session s = sessions.get(i);
            String who = b == 1 ? "" : "session " + i + " of the prefill batch: ";
            try {
                mps[i] = s.checkPrompt(inputIds.get(i), visionInputs.get(i));
            } catch (IllegalArgumentException | IllegalStateException e) {
                if (b == 1) throw e;
                throw e instanceof IllegalStateException ? new IllegalStateException(who + e.getMessage(), e)
                        : new IllegalArgumentException(who + e.getMessage(), e);
            }
            total += inputIds.get(i).length;
        }
        ModelDims dims = first.dims;
        Backend be = first.be;
        int[] ids = new int[total];
        long[][] pos = new long[3][total];
        List<TextDecoder.Segment> rows = new ArrayList<>(b);
        RoutingStats.Modality[] mod = new RoutingStats.Modality[total];
        for (int i = 0, off = 0; i < b; i++) {
            int[] p = inputIds.get(i);
            System.arraycopy(p, 0, ids, off, p.length);
            for (int a = 0; a < 3; a++) System.arraycopy(mps[i].pos()[a], 0, pos[a], off, p.length);
            System.arraycopy(sessions.get(i).modalities(p), 0, mod, off, p.length);
            rows.add(sessions.get(i).segment(off, p.length));
            off += p.length;
        }
        if (trace != null) {
            int n = total;
            int[] flat = new int[3 * n];
            for (int a = 0; a < 3; a++) for (int i = 0; i < n; i++) flat[a * n + i] = Math.toIntExact(pos[a][i]);
            trace.ints("position_ids", flat, 3, n);
            trace.ints("rope_delta", new int[] {Math.toIntExact(mps[0].ropeDelta())}, 1);
        }
        int hidden = dims.text().hidden();
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(total, hidden);
            first.model.decoder().embed(ids, x);
            for (int i = 0; i < b; i++) sessions.get(i).encodeVision(ws, x, rows.get(i).row(), visionInputs.get(i), mps[i].segments(), trace);
            if (trace != null) trace.floats("inputs_embeds", be.download(x), total, hidden);
            float[][] logits = first.model.decoder().forward(ws, x, pos, rows, mod, trace);
            for (int i = 0; i < b; i++) {
                Session s = sessions.get(i);
                int[] p = inputIds.get(i);
                s.prefilled = true;
                s.length = p.length;
                s.nextPos = mps[i].next();
                System.arraycopy(p, 0, s.ids, 0, p.length);
                long max = -1;
                for (int r = 0; r < p.length; r++) {
                    for (int a = 0; a < 3; a++) max = Math.max(max, mps[i].pos()[a][r]);
                    s.nextAfter[r] = max + 1;
                }
                s.vision = List.copyOf(visionInputs.get(i));
                s.visionStarts = mps[i].segments().clone();
            }
            return logits;
        }
    }

    /**
     * Encodes {@code inputs} and writes each one's rows over its placeholder run in {@code x} {@code [rows, hidden]}:
     * run {@code v} starts at row {@code base + starts[v]}.
     */
    private void encodeVision(Workspace ws, Tensor x, int base, List<VisionInput> inputs, int[] starts, ForwardTrace trace) {
        int hidden = dims.text().hidden();
        for (int v = 0; v < inputs.size(); v++) {
            VisionInput in = inputs.get(v);
            int m = model.vision().mergedTokens(in);
            Tensor vr = ws.f32(m, hidden);                                  // [merged tokens, hidden]
            long tv = System.nanoTime();
            model.vision().encode(in, ws, vr, trace);
            visionNanos += System.nanoTime() - tv;
            int[] at = new int[m];
            for (int j = 0; j < m; j++) at[j] = base + starts[v] + j;
            be.scatterRows(vr, at, x);
            if (trace != null) {
                trace.floats((in.kind() == VisionInput.Kind.IMAGE ? "image" : "video") + ".embeds#" + v, be.download(vr), m, hidden);
            }
        }
    }

    /** Every session of a batch once, open, and of the first one's model. */
    private static void checkMembers(List<Session> batch, String kind) {
        Set<Session> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < batch.size(); i++) {
            Session s = batch.get(i);
            String who = batch.size() == 1 ? "the session" : "session " + i + " of the " + kind + " batch";
            if (s.closed) throw new IllegalStateException(who + " is closed");
            if (!seen.add(s)) throw new IllegalArgumentException(who + " appears twice");
            if (s.model != batch.get(0).model) throw new IllegalArgumentException(who + " belongs to another model");
        }
    }

    /** Checks a prompt for this fresh session; returns its M-RoPE positions. */
    private MropePositions checkPrompt(int[] inputIds, List<VisionInput> inputs) {
        if (prefilled) throw new IllegalStateException("session already prefilled; start a new session for a new prompt");
        int n = inputIds.length;
        if (n == 0) throw new IllegalArgumentException("empty prompt");
        if (n > maxTokens) throw new IllegalArgumentException("prompt of " + n + " tokens exceeds the session's maxTokens " + maxTokens);
        checkIds(inputIds, 0);
        MropePositions mp = MropePositions.compute(inputIds, inputs, dims);
        if (mp.next() + (maxTokens - n) > dims.text().maxPositions()) {
            throw new IllegalArgumentException("positions up to " + (mp.next() + maxTokens - n - 1) + " would exceed max_position_embeddings "
                    + dims.text().maxPositions());
        }
        return mp;
    }

    /** One decode step: feeds {@code tokenId} at the next position; returns its logits {@code [vocab]}. */
    public float[] decode(int tokenId) {
        return decode(List.of(this), new int[] {tokenId})[0];
    }

    /**
     * One decode step for several sessions of the same model at once (continuous batching): session
     * {@code b} is fed {@code tokenIds[b]} at its own next position. The projections, MoE and lm_head run
     * once over the {@code [B, hidden]} batch (the weights are read once per step, not once per sequence);
     * attention runs per session against its own cache. Sessions may differ in length and may join or
     * leave the batch between steps. Returns the logits {@code [B][vocab]}, in batch order. A batch of one
     * is exactly {@link #decode(int)}.
     *
     * @throws IllegalArgumentException when a session repeats, belongs to another model, is full, or an id
     *                                  is outside the vocabulary
     * @throws IllegalStateException    when a session was not prefilled
     */
    public static float[][] decode(List<Session> batch, int[] tokenIds) {
        int b = batch.size();
        if (b == 0) throw new IllegalArgumentException("empty decode batch");
        if (tokenIds.length != b) throw new IllegalArgumentException("decode batch of " + b + " sessions got " + tokenIds.length + " token ids");
        Session first = batch.get(0);
        checkMembers(batch, "decode");
        for (int i = 0; i < b; i++) {
            Session s = batch.get(i);
            if (!s.prefilled) throw new IllegalStateException("decode before prefill (session " + i + " of the batch)");
            if (s.length >= s.maxTokens) {
                throw new IllegalArgumentException("session " + (b == 1 ? "" : i + " of the batch ") + "is full: " + s.length + " tokens = maxTokens");
            }
            try {
                s.checkIds(new int[] {tokenIds[i]}, s.length);
            } catch (IllegalArgumentException e) {
                throw b == 1 ? e : new IllegalArgumentException("session " + i + " of the batch: " + e.getMessage(), e);
            }
        }
        long[][] pos = new long[3][b];
        List<TextDecoder.Segment> rows = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            Session s = batch.get(i);
            for (int a = 0; a < 3; a++) pos[a][i] = s.nextPos;
            rows.add(s.segment(i, 1));
        }
        try (Workspace ws = first.be.workspace()) {
            Tensor x = ws.f32(b, first.dims.text().hidden());
            first.model.decoder().embed(tokenIds, x);
            float[][] logits = first.model.decoder().forward(ws, x, pos, rows, first.modalities(tokenIds), null);
            for (int i = 0; i < b; i++) {
                Session s = batch.get(i);
                s.ids[s.length] = tokenIds[i];
                s.nextAfter[s.length] = s.nextPos + 1;
                s.length++;
                s.nextPos++;
            }
            return logits;
        }
    }

    /** Feeds more text tokens after what is in the cache; {@link #extend(int[], List)} without vision inputs. */
    public float[] extend(int[] more) {
        return extend(more, List.of());
    }

    /**
     * Feeds more of a prompt after what is in the cache, in one pass (a chat's next user turn after a reused prefix,
     * or the next piece of a chunked prefill); returns the last one's logits {@code [vocab]}. The new tokens may hold
     * vision placeholder runs, one per input of {@code moreVision} in order (an image sent in a later turn); their
     * M-RoPE positions count on from the cache's next position, so the rows equal those of a fresh prefill of the
     * whole sequence.
     */
    public float[] extend(int[] more, List<VisionInput> moreVision) {
        checkMembers(List.of(this), "extend");
        if (!prefilled) throw new IllegalStateException("extend before prefill");
        int n = more.length;
        if (n == 0) throw new IllegalArgumentException("nothing to extend with");
        if (length + n > maxTokens) {
            throw new IllegalArgumentException(n + " more tokens after " + length + " exceed the session's maxTokens " + maxTokens);
        }
        checkIds(more, length);
        MropePositions mp = MropePositions.compute(more, moreVision, dims, nextPos);
        if (mp.next() + (maxTokens - length - n) > dims.text().maxPositions()) {
            throw new IllegalArgumentException("positions up to " + (mp.next() + maxTokens - length - n - 1) + " would exceed max_position_embeddings "
                    + dims.text().maxPositions());
        }
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(n, dims.text().hidden());
            model.decoder().embed(more, x);
            encodeVision(ws, x, 0, moreVision, mp.segments(), null);
            float[] logits = model.decoder().forward(ws, x, mp.pos(), List.of(segment(0, n)), modalities(more), null)[0];
            long max = nextPos - 1;
            for (int i = 0; i < n; i++) {
                ids[length + i] = more[i];
                for (int a = 0; a < 3; a++) max = Math.max(max, mp.pos()[a][i]);
                nextAfter[length + i] = max + 1;
            }
            if (!moreVision.isEmpty()) {
                List<VisionInput> all = new ArrayList<>(vision);
                all.addAll(moreVision);
                int[] starts = Arrays.copyOf(visionStarts, all.size());
                for (int v = 0; v < moreVision.size(); v++) starts[vision.size() + v] = length + mp.segments()[v];
                vision = List.copyOf(all);
                visionStarts = starts;
            }
            length += n;
            nextPos = mp.next();
            return logits;
        }
    }

    /**
     * Keeps only the first {@code rows} cache rows (a reused prefix); the next token goes at row {@code rows}.
     * The cut may not fall inside a vision placeholder run. Routing statistics and the vision time restart:
     * they count what is computed from here on.
     */
    public void truncate(int rows) {
        checkMembers(List.of(this), "truncate");
        if (!prefilled) throw new IllegalStateException("truncate before prefill");
        if (rows < 1 || rows > length) throw new IllegalArgumentException("cannot keep " + rows + " of " + length + " rows");
        int keep = visionRunsBefore(rows);
        length = rows;
        nextPos = nextAfter[rows - 1];
        vision = List.copyOf(vision.subList(0, keep));
        visionStarts = Arrays.copyOf(visionStarts, keep);
        stats.clear();
        visionNanos = 0;
    }

    /**
     * Fills this fresh session with the first {@code rows} rows of {@code src} (KV cache, tokens, positions; device
     * to device on the GPU), as if it had prefilled them; for a reused prefix that needs more room than
     * {@code src} has. The cut may not fall inside a vision placeholder run.
     */
    public void copyPrefix(Session src, int rows) {
        checkMembers(List.of(this, src), "copy");
        if (prefilled) throw new IllegalStateException("copyPrefix into a session that is already prefilled");
        if (!src.prefilled) throw new IllegalStateException("copyPrefix from a session that was not prefilled");
        if (rows < 1 || rows > src.length) throw new IllegalArgumentException("cannot copy " + rows + " of " + src.length + " rows");
        if (rows > maxTokens) throw new IllegalArgumentException(rows + " rows exceed the session's maxTokens " + maxTokens);
        int keep = src.visionRunsBefore(rows);
        for (int l = 0; l < cache.k().length; l++) {
            be.copy(src.cache.k()[l].rows(0, rows), cache.k()[l].rows(0, rows));
            be.copy(src.cache.v()[l].rows(0, rows), cache.v()[l].rows(0, rows));
        }
        System.arraycopy(src.ids, 0, ids, 0, rows);
        System.arraycopy(src.nextAfter, 0, nextAfter, 0, rows);
        vision = List.copyOf(src.vision.subList(0, keep));
        visionStarts = Arrays.copyOf(src.visionStarts, keep);
        prefilled = true;
        length = rows;
        nextPos = src.nextAfter[rows - 1];
    }

    /** How many vision runs end at or before row {@code rows}; fails when {@code rows} cuts through one. */
    int visionRunsBefore(int rows) {
        int merge = dims.vision().mergeSize(), keep = 0;
        for (int v = 0; v < vision.size(); v++) {
            int a = visionStarts[v], end = a + vision.get(v).grid().mergedTokens(merge);
            if (end <= rows) keep++;
            else if (a < rows) throw new IllegalArgumentException("row " + rows + " cuts through vision run " + v + " (rows " + a + " to " + end + ")");
        }
        return keep;
    }

    /** The tokens in the cache, row by row {@code [length]}. */
    public int[] tokens() {
        return Arrays.copyOf(ids, length);
    }

    /** The vision inputs whose placeholder runs are in the cache, in order, and the first row of each. */
    public List<VisionInput> visionInputs() {
        return vision;
    }

    public int[] visionStarts() {
        return visionStarts.clone();
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

    /** This session's rows {@code [row, row+count)} of a forward batch, at its cache rows from its length on. */
    private TextDecoder.Segment segment(int row, int count) {
        return new TextDecoder.Segment(cache, length, row, count, stats);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cacheSpace.close();
    }
}

package ai.polyv.bench;

import ai.polyv.loader.layout.HubNames;
import ai.polyv.core.model.ModelDims;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.Session;
import ai.polyv.core.model.VisionInput;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code polyv bench decode}: prefill and greedy decode speed of a model, at one or more decode batch sizes
 * ({@link Session#decode(List, int[])}: B sequences per step, the weights read once per step), against the
 * step's roofline: the larger of the memory floor (bytes one step must read at the measured copy bandwidth:
 * every decoder weight, the share of each MoE layer's experts the batch touches, B embedding rows, the
 * lm_head and each sequence's KV cache) and the compute floor (the step's matmul and attention FLOPs at the
 * measured FMA peak).
 */
public final class DecodeBench {
    private DecodeBench() {}

    /**
     * Results of one model at one batch size.
     *
     * @param batch             sequences decoded per step
     * @param decodeStep        wall time of one batched step
     * @param decodeTokensPerSecond batch / median step time (all sequences together)
     * @param bytesPerStep      bytes one step must read (weights + every sequence's mean KV cache)
     * @param flopsPerStep      FLOPs of one step (matmuls + attention, all sequences)
     * @param rooflineTokensPerSecond batch / max(memory floor, compute floor)
     * @param bound             which floor is larger: MEMORY or COMPUTE
     * @param fraction          decode tokens/s over the roofline
     */
    public record Report(String benchmark, String model, MachineInfo machine, Ceilings ceilings, int promptTokens, int decodeTokens,
                         int batch, Timing.Stats prefill, double prefillTokensPerSecond, Timing.Stats decodeStep, double decodeTokensPerSecond,
                         double weightBytesPerStep, double kvBytesPerStep, double bytesPerStep, double flopsPerStep,
                         double rooflineTokensPerSecond, Bound bound, double fraction, double loadAtEnd) {}

    /**
     * Bytes of weights one decode token reads: all decoder tensors except the vision tower and synergy heads;
     * a MoE layer's experts count {@code topK / numExperts} of their size; the embedding table one row.
     */
    public static double weightBytesPerToken(Map<String, Long> tensorBytes, ModelDims dims) {
        return weightBytesPerStep(tensorBytes, dims, 1);
    }

    /**
     * Bytes of weights one decode step of {@code batch} tokens reads: as {@link #weightBytesPerToken}, with
     * {@code batch} embedding rows, and of each MoE layer's experts the expected share a batch of uniformly
     * routed tokens touches, {@code 1 - (1 - topK/numExperts)^batch} (topK/numExperts for one token).
     */
    public static double weightBytesPerStep(Map<String, Long> tensorBytes, ModelDims dims, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        double total = 0;
        for (var e : tensorBytes.entrySet()) {
            String n = e.getKey();
            double b = e.getValue();
            HubNames.Part part = HubNames.partOf(n);
            if (part == HubNames.Part.VISION || part == HubNames.Part.SYNERGY_HEADS) continue;
            if (part == HubNames.Part.EMBEDDINGS) {
                total += b * Math.min(batch, dims.text().vocab()) / dims.text().vocab();
            } else if (part == HubNames.Part.MOE_EXPERTS) {
                if (dims.moe() == null) throw new IllegalArgumentException("tensor " + n + " is an expert but the config has no moe section");
                total += b * Roofline.expertShareTouched(dims.moe().topK(), dims.moe().numExperts(), batch);
            } else {
                total += b;
            }
        }
        return total;
    }

    /** KV-cache bytes (F32) attention reads for a token at position {@code ctx - 1}: K and V of all layers. */
    public static double kvBytes(ModelDims dims, double ctx) {
        ModelDims.Text t = dims.text();
        return 2.0 * t.layers() * ctx * t.kvHeads() * t.headDim() * 4;
    }

    /**
     * FLOPs of one decode token at context {@code ctx} (an FMA counts 2): q/k/v/o projections, the dense MLPs,
     * each MoE layer's router and top-k experts, the lm_head, and attention's {@code q.k} and {@code p.v}.
     */
    public static double flopsPerToken(ModelDims dims, int intermediate, double ctx) {
        ModelDims.Text t = dims.text();
        double h = t.hidden(), q = (double) t.heads() * t.headDim(), kv = (double) t.kvHeads() * t.headDim();
        double attnProj = 2 * h * (q + 2 * kv) + 2 * q * h;
        double mlp = 2 * 3 * h * intermediate;
        int moeLayers = dims.moe() == null ? 0 : dims.moe().layers().length;
        double moe = dims.moe() == null ? 0 : 2 * h * dims.moe().numExperts() + dims.moe().topK() * mlp;
        double attention = 4 * ctx * q;
        return t.layers() * (attnProj + attention) + (t.layers() - moeLayers) * mlp + moeLayers * moe + 2 * h * t.vocab();
    }

    /** Prompt ids of sequence {@code seq}: deterministic, below every special token id (no vision tokens). */
    static int[] prompt(int n, int limit, int seq) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (int) (((i + 7919L * seq) * 2654435761L + 17) % limit);
        return ids;
    }

    static int[] prompt(int n, int limit) {
        return prompt(n, limit, 0);
    }

    static int argmax(float[] logits, int limit) {
        int best = 0;
        for (int i = 1; i < limit; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /**
     * Runs prefill ({@code prefillRuns} sessions), then for each batch size B: B sessions prefilled with
     * different prompts and {@code decodeTokens} timed greedy steps of all B together. One report per batch size.
     */
    public static List<Report> run(String label, PolyVModel model, Map<String, Long> tensorBytes, Ceilings c, int promptTokens, int decodeTokens,
                                   int prefillRuns, List<Integer> batches, PrintStream log) {
        if (batches.isEmpty()) throw new IllegalArgumentException("at least one batch size is needed");
        for (int b : batches) if (b < 1) throw new IllegalArgumentException("batch sizes must be >= 1, got " + b);
        MachineInfo machine = MachineInfo.current();
        ModelDims dims = model.dims();
        var tok = dims.tokens();
        int limit = Math.min(dims.text().vocab(), Math.min(Math.min(tok.imageTokenId(), tok.videoTokenId()),
                Math.min(tok.visionStartTokenId(), tok.visionEndTokenId())));
        var ids = model.config().tokens();
        if (ids.bosTokenId() != null) limit = Math.min(limit, ids.bosTokenId());
        for (int e : ids.eosTokenIds()) limit = Math.min(limit, e);
        if (limit < 2) throw new IllegalArgumentException(label + ": no ordinary token ids below the special ids");
        int total = promptTokens + decodeTokens;
        if (total > dims.text().maxPositions()) {
            throw new IllegalArgumentException(label + ": prompt + decode = " + total + " tokens exceeds max_position_embeddings " + dims.text().maxPositions());
        }
        log.printf("decode %s: warm-up ...%n", label);
        int warmBatch = batches.stream().mapToInt(Integer::intValue).max().orElseThrow();
        // JIT warm-up of every path at the timed sizes: the prefill kernels (GEMM, blocked attention) at the full prompt
        // length, the decode kernels at the largest batch
        for (int i = 0; i < 2; i++) textSteps(model, promptTokens, 4, 1, limit);
        textSteps(model, Math.min(promptTokens, 32), 8, warmBatch, limit);
        double[] prefillMs = new double[prefillRuns];
        int[] prompt = prompt(promptTokens, limit);
        for (int r = 0; r < prefillRuns; r++) {
            try (Session s = model.newSession(promptTokens)) {
                long t0 = System.nanoTime();
                s.prefill(prompt, List.of());
                prefillMs[r] = (System.nanoTime() - t0) / 1e6;
                log.printf("decode %s: prefill %d tokens %.1f ms%n", label, promptTokens, prefillMs[r]);
            }
        }
        Timing.Stats pre = Timing.Stats.of(prefillMs);
        List<Report> out = new ArrayList<>();
        for (int b : batches) {
            double[] stepMs = textSteps(model, promptTokens, decodeTokens, b, limit);
            Timing.Stats dec = Timing.Stats.of(stepMs);
            double ctx = promptTokens + decodeTokens / 2.0;
            double weights = weightBytesPerStep(tensorBytes, dims, b);
            double kv = b * kvBytes(dims, ctx);
            double flops = b * flopsPerToken(dims, model.config().text().intermediateSize(), ctx);
            double memFloor = c.memoryFloorSeconds(weights + kv), computeFloor = c.computeFloorSeconds(flops);
            double roof = b / Math.max(memFloor, computeFloor);
            double tps = b * 1e3 / dec.medianMs();
            log.printf("decode %s: batch %d step %.2f ms, %.1f tokens/s%n", label, b, dec.medianMs(), tps);
            out.add(new Report("decode", label, machine, c, promptTokens, decodeTokens, b, pre, promptTokens / pre.medianSeconds(), dec, tps,
                    weights, kv, weights + kv, flops, roof, memFloor >= computeFloor ? Bound.MEMORY : Bound.COMPUTE, tps / roof,
                    MachineInfo.loadAverage()));
        }
        return out;
    }

    /**
     * One session per prompt (with its vision inputs), prefilled, then {@code steps} greedy steps of all of them
     * together ({@link Session#decode(List, int[])}, which returns host logits, so each timed step ends synchronised);
     * returns each step's wall time in ms. The greedy choice (argmax below {@code limit}) is not timed.
     */
    public static double[] batchedStepsMs(PolyVModel model, List<int[]> prompts, List<List<VisionInput>> vision, int steps, int limit) {
        double[] stepMs = new double[steps];
        List<Session> sessions = new ArrayList<>();
        try {
            int[] next = new int[prompts.size()];
            for (int i = 0; i < next.length; i++) {
                Session s = model.newSession(prompts.get(i).length + steps);
                sessions.add(s);
                next[i] = argmax(s.prefill(prompts.get(i), vision.get(i)), limit);
            }
            for (int step = 0; step < steps; step++) {
                long t1 = System.nanoTime();
                float[][] logits = Session.decode(sessions, next);
                stepMs[step] = (System.nanoTime() - t1) / 1e6;
                for (int i = 0; i < next.length; i++) next[i] = argmax(logits[i], limit);
            }
        } finally {
            sessions.forEach(Session::close);
        }
        return stepMs;
    }

    /** {@code batch} text prompts of {@code promptTokens} (a different one per sequence), then {@code steps} timed steps. */
    private static double[] textSteps(PolyVModel model, int promptTokens, int steps, int batch, int limit) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < batch; i++) prompts.add(prompt(promptTokens, limit, i));
        return batchedStepsMs(model, prompts, java.util.Collections.nCopies(batch, List.of()), steps, limit);
    }

    public static String table(List<Report> reports) {
        Table t = new Table("model", "phase", "batch", "tokens", "median ms", "tokens/s", "MB/step", "GFLOP/step", "roofline tok/s", "bound",
                "of roofline");
        String lastModel = null;
        for (Report r : reports) {
            if (!r.model().equals(lastModel)) {
                t.row(r.model(), "prefill", 1, r.promptTokens(), Table.num(r.prefill().medianMs(), 1), Table.num(r.prefillTokensPerSecond(), 1),
                        "-", "-", "-", "-", "-");
                lastModel = r.model();
            }
            t.row(r.model(), "decode", r.batch(), r.decodeTokens(), Table.num(r.decodeStep().medianMs(), 2), Table.num(r.decodeTokensPerSecond(), 1),
                    Table.num(r.bytesPerStep() / 1e6, 1), Table.num(r.flopsPerStep() / 1e9, 2), Table.num(r.rooflineTokensPerSecond(), 1),
                    r.bound().name().toLowerCase(), String.format("%.0f%%", 100 * r.fraction()));
        }
        return t.render();
    }

    /** Reports of several models in one JSON document. */
    public record Reports(String benchmark, List<Report> runs) {
        public Reports {
            runs = List.copyOf(runs);
        }

        public static Reports of(List<Report> runs) {
            return new Reports("decode", new ArrayList<>(runs));
        }
    }
}

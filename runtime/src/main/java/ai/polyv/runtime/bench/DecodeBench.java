package ai.polyv.runtime.bench;

import ai.polyv.runtime.model.ModelDims;
import ai.polyv.runtime.model.PolyVModel;
import ai.polyv.runtime.model.Session;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code polyv bench decode}: prefill and greedy decode speed of a model against the memory roofline
 * (bytes read per decoded token at the measured copy bandwidth: every decoder weight, the top-k experts'
 * share of each MoE layer, one embedding row, the lm_head and the KV cache read by attention).
 */
public final class DecodeBench {
    private DecodeBench() {}

    /**
     * Results.
     *
     * @param bytesPerToken    bytes one decode step must read (weights + mean KV cache)
     * @param rooflineTokensPerSecond copy bandwidth / bytesPerToken
     * @param fraction         decode tokens/s over the roofline
     */
    public record Report(String benchmark, String model, MachineInfo machine, Ceilings ceilings, int promptTokens, int decodeTokens,
                         Timing.Stats prefill, double prefillTokensPerSecond, Timing.Stats decodeStep, double decodeTokensPerSecond,
                         double weightBytesPerToken, double kvBytesPerToken, double bytesPerToken, double rooflineTokensPerSecond,
                         double fraction, double loadAtEnd) {}

    /**
     * Bytes of weights one decode token reads: all decoder tensors except the vision tower and synergy heads;
     * a MoE layer's experts count {@code topK / numExperts} of their size; the embedding table one row.
     */
    public static double weightBytesPerToken(Map<String, Long> tensorBytes, ModelDims dims) {
        double total = 0;
        for (var e : tensorBytes.entrySet()) {
            String n = e.getKey();
            double b = e.getValue();
            if (n.startsWith("visual.") || n.startsWith("synergy_heads.")) continue;
            if (n.equals("model.embed_tokens.weight")) {
                total += b / dims.text().vocab();
            } else if (n.contains(".mlp.experts.")) {
                if (dims.moe() == null) throw new IllegalArgumentException("tensor " + n + " is an expert but the config has no moe section");
                total += b * dims.moe().topK() / dims.moe().numExperts();
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

    /** Prompt ids: deterministic, below every special token id (no vision tokens). */
    static int[] prompt(int n, int limit) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (int) ((i * 2654435761L + 17) % limit);
        return ids;
    }

    static int argmax(float[] logits, int limit) {
        int best = 0;
        for (int i = 1; i < limit; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Runs prefill ({@code prefillRuns} sessions) then {@code decodeTokens} greedy steps on the last one. */
    public static Report run(String label, PolyVModel model, Map<String, Long> tensorBytes, Ceilings c, int promptTokens, int decodeTokens,
                             int prefillRuns, PrintStream log) {
        MachineInfo machine = MachineInfo.current();
        ModelDims dims = model.dims();
        var tok = dims.tokens();
        int limit = Math.min(dims.text().vocab(), Math.min(Math.min(tok.imageTokenId(), tok.videoTokenId()),
                Math.min(tok.visionStartTokenId(), tok.visionEndTokenId())));
        var ids = model.config().tokens();
        if (ids.bosTokenId() != null) limit = Math.min(limit, ids.bosTokenId());
        for (int e : ids.eosTokenIds()) limit = Math.min(limit, e);
        if (limit < 2) throw new IllegalArgumentException(label + ": no ordinary token ids below the special ids");
        int[] prompt = prompt(promptTokens, limit);
        int total = promptTokens + decodeTokens;
        if (total > dims.text().maxPositions()) {
            throw new IllegalArgumentException(label + ": prompt + decode = " + total + " tokens exceeds max_position_embeddings " + dims.text().maxPositions());
        }
        log.printf("decode %s: warm-up ...%n", label);
        try (Session s = model.newSession(Math.min(total, 64))) {   // JIT warm-up of both paths
            int next = argmax(s.prefill(Arrays.copyOf(prompt, Math.min(promptTokens, 32)), List.of()), limit);
            for (int i = 0; i < 8 && s.length() < s.maxTokens(); i++) next = argmax(s.decode(next), limit);
        }
        double[] prefillMs = new double[prefillRuns];
        double[] stepMs = new double[decodeTokens];
        for (int r = 0; r < prefillRuns; r++) {
            try (Session s = model.newSession(total)) {
                long t0 = System.nanoTime();
                float[] logits = s.prefill(prompt, List.of());
                prefillMs[r] = (System.nanoTime() - t0) / 1e6;
                log.printf("decode %s: prefill %d tokens %.1f ms%n", label, promptTokens, prefillMs[r]);
                if (r == prefillRuns - 1) {
                    int next = argmax(logits, limit);
                    for (int i = 0; i < decodeTokens; i++) {
                        long t1 = System.nanoTime();
                        next = argmax(s.decode(next), limit);
                        stepMs[i] = (System.nanoTime() - t1) / 1e6;
                    }
                }
            }
        }
        Timing.Stats pre = Timing.Stats.of(prefillMs), dec = Timing.Stats.of(stepMs);
        double weights = weightBytesPerToken(tensorBytes, dims);
        double kv = kvBytes(dims, promptTokens + decodeTokens / 2.0);
        double perToken = weights + kv;
        double roof = Roofline.maxTokensPerSecond(perToken, c);
        double tps = 1e3 / dec.medianMs();
        return new Report("decode", label, machine, c, promptTokens, decodeTokens, pre, promptTokens / pre.medianSeconds(), dec, tps,
                weights, kv, perToken, roof, tps / roof, MachineInfo.loadAverage());
    }

    public static String table(List<Report> reports) {
        Table t = new Table("model", "phase", "tokens", "median ms", "tokens/s", "MB/token", "roofline tok/s", "of roofline");
        for (Report r : reports) {
            t.row(r.model(), "prefill", r.promptTokens(), Table.num(r.prefill().medianMs(), 1), Table.num(r.prefillTokensPerSecond(), 1),
                    "-", "-", "-");
            t.row(r.model(), "decode", r.decodeTokens(), Table.num(r.decodeStep().medianMs(), 2), Table.num(r.decodeTokensPerSecond(), 1),
                    Table.num(r.bytesPerToken() / 1e6, 1), Table.num(r.rooflineTokensPerSecond(), 1), String.format("%.0f%%", 100 * r.fraction()));
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

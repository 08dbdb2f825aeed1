package ai.polyv.runtime.generate;

import ai.polyv.runtime.model.PolyVModel;
import ai.polyv.runtime.model.RoutingStats;
import ai.polyv.runtime.model.Session;
import ai.polyv.runtime.model.VisionInput;
import ai.polyv.runtime.sampling.Sampler;
import ai.polyv.runtime.sampling.SamplingOptions;
import ai.polyv.runtime.sampling.StopTokens;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Token-level generation: one {@link Session} per call, the prompt prefilled (vision inputs
 * encoded and spliced in), then one decode step per generated token until a stop token, the
 * token budget or the model's context ({@code max_position_embeddings}) is reached. The first
 * token comes from the prefill's logits; a stop token ends generation and is not emitted.
 */
public final class Generator {

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_NEW_TOKENS, CONTEXT_FULL }

    /**
     * Outcome of one generation.
     *
     * @param tokens       generated ids (stop token excluded)
     * @param stopReason   why it ended
     * @param promptTokens prompt length
     * @param prefillNanos wall time of the prefill (vision encoding included)
     * @param visionNanos  part of the prefill spent in the vision encoder
     * @param decodeNanos  wall time of the decode steps
     * @param decodeSteps  number of decode steps run
     * @param routing      tokens per expert per MoE layer and modality (prompt and generated tokens)
     */
    public record Result(int[] tokens, StopReason stopReason, int promptTokens, long prefillNanos, long visionNanos, long decodeNanos,
                         int decodeSteps, RoutingStats routing) {
        public double prefillMillis() {
            return prefillNanos / 1e6;
        }

        /** Prompt tokens per second of prefill. */
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens / (prefillNanos / 1e9);
        }

        /** Decode steps per second (0 when no step ran). */
        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : decodeSteps / (decodeNanos / 1e9);
        }
    }

    private final PolyVModel model;

    public Generator(PolyVModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * Runs one generation.
     *
     * @param promptIds    {@code [promptTokens]} ids with one placeholder per merged vision token
     * @param vision       vision inputs in prompt order
     * @param maxNewTokens budget of generated tokens, at least 1
     * @param onToken      receives each generated id as soon as it is chosen
     */
    public Result generate(int[] promptIds, List<VisionInput> vision, int maxNewTokens, SamplingOptions sampling,
                           StopTokens stops, IntConsumer onToken) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        int context = model.config().text().maxPositionEmbeddings();
        if (promptIds.length >= context) {
            throw new IllegalArgumentException("prompt too long: " + promptIds.length + " tokens, the model's context (max_position_embeddings) is "
                    + context + " and at least one token must be generated");
        }
        int capacity = (int) Math.min((long) promptIds.length + maxNewTokens, context);
        Sampler sampler = Sampler.of(sampling);
        try (Session session = model.newSession(capacity)) {
            long t0 = System.nanoTime();
            float[] logits = session.prefill(promptIds, vision);
            long prefill = System.nanoTime() - t0;
            int[] out = new int[Math.min(maxNewTokens, capacity - promptIds.length + 1)];
            int n = 0;
            int steps = 0;
            long decode = 0;
            StopReason reason;
            while (true) {
                int id = sampler.sample(logits);
                if (stops.isStop(id)) {
                    reason = StopReason.STOP_TOKEN;
                    break;
                }
                out[n++] = id;
                onToken.accept(id);
                if (n >= maxNewTokens) {
                    reason = StopReason.MAX_NEW_TOKENS;
                    break;
                }
                if (session.length() >= capacity) {
                    reason = StopReason.CONTEXT_FULL;
                    break;
                }
                long t1 = System.nanoTime();
                logits = session.decode(id);
                decode += System.nanoTime() - t1;
                steps++;
            }
            return new Result(Arrays.copyOf(out, n), reason, promptIds.length, prefill, session.visionNanos(), decode, steps,
                    session.routingStats());
        }
    }
}

package ai.polyv.core.generate;

import ai.polyv.core.model.RoutingStats;
import ai.polyv.core.model.VisionInput;
import java.util.List;

/**
 * The outcome of {@link ai.polyv.core.PolyV#generate}.
 *
 * @param text       the generated text (empty when the model has no tokenizer); stop token excluded
 * @param ids        {@code [generated]} generated ids, stop token excluded
 * @param promptIds  {@code [promptTokens]} the ids that were prefilled
 * @param grids      the patch grid of each visual input, in prompt order
 * @param stopReason why generation ended
 * @param timings    where the time went
 * @param routing    tokens per expert per MoE layer and modality (prompt and generated tokens)
 */
public record GenerationResult(String text, int[] ids, int[] promptIds, List<VisionInput.GridThw> grids,
                               Generator.StopReason stopReason, Timings timings, RoutingStats routing) {

    public GenerationResult {
        ids = ids.clone();
        promptIds = promptIds.clone();
        grids = List.copyOf(grids);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }

    /**
     * Wall times in nanoseconds.
     *
     * @param preprocessNanos reading, resizing and patchifying the visual inputs; 3D PE; prompt ids
     * @param prefillNanos    the prefill (vision encoder included)
     * @param visionNanos     the vision encoder's part of the prefill
     * @param decodeNanos     the decode steps
     * @param promptTokens    prompt length
     * @param decodeSteps     decode steps run (generated tokens minus the one from the prefill)
     */
    public record Timings(long preprocessNanos, long prefillNanos, long visionNanos, long decodeNanos, int promptTokens, int decodeSteps) {

        public double preprocessMillis() {
            return preprocessNanos / 1e6;
        }

        public double prefillMillis() {
            return prefillNanos / 1e6;
        }

        public double visionMillis() {
            return visionNanos / 1e6;
        }

        public double decodeMillis() {
            return decodeNanos / 1e6;
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
}

package ai.polyv.bench;

import ai.polyv.loader.layout.HubNames;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.TokenIds;
import ai.polyv.loader.config.VisionConfig;
import java.util.List;

/** Named model configs for benchmarks with random weights ({@code --config NAME}). */
public final class ModelConfigs {
    private ModelConfigs() {}

    /** The names {@link #named} accepts. */
    public static final List<String> NAMES = List.of("mid", "polyv-7b");

    public static PolyVConfig named(String name) {
        return switch (name) {
            case "mid" -> RandomWeights.midConfig();
            case "polyv-7b" -> polyv7b();
            default -> throw new IllegalArgumentException("--config must be one of " + NAMES + ", got '" + name + "'");
        };
    }

    /**
     * PolyV-7B (docs/spec.md §2): Qwen2.5-VL-7B's shapes (text 3584 wide, 28 layers, 28 heads over 4 KV heads of
     * 128, FFN 18944, vocabulary 152064, untied lm_head; the 32-block vision tower of width 1280) with the FFN of
     * layers 0, 4, ..., 24 replaced by 4 experts, top-2. No synergy heads (they are not on the inference path).
     */
    public static PolyVConfig polyv7b() {
        TextConfig text = new TextConfig(3584, 18944, 28, 28, 4, 152064, 1e-6, 1_000_000.0, new int[] {16, 24, 24}, 128000, false, "silu");
        return new PolyVConfig(text, VisionConfig.qwen25vl7b(), MoeConfig.polyv7b(), null, null,
                new TokenIds(151655, 151656, 151652, 151653, null, List.of(151645)));
    }

    /**
     * Parameter counts of a config (from its expected tensors), in docs/spec.md's convention for "LLM parameters":
     * the decoder with its embedding table and without {@code lm_head} (PolyV-7B: 11.35B, docs/spec.md's "11.3B total").
     *
     * @param total     every tensor (vision tower, decoder, lm_head, synergy heads)
     * @param llm       the decoder: every {@code model.*} tensor (embedding table included, lm_head not)
     * @param llmActive {@code llm} as one token sees it: in each MoE layer only {@code topK} of the {@code M} experts
     * @param lmHead    {@code lm_head.weight} (0 when tied)
     * @param vision    the vision tower ({@code visual.*})
     */
    /**
     * Parameter counts.
     *
     * @param llmActive      LLM values one token uses: everything but the experts, plus top-k of each MoE layer's experts
     * @param llmDenseActive the part of llmActive outside the experts
     */
    public record ParameterCounts(long total, long llm, long llmActive, long llmDenseActive, long lmHead, long vision) {}

    public static ParameterCounts count(PolyVConfig c) {
        long total = 0, llm = 0, vision = 0, experts = 0, lmHead = 0;
        int m = c.moe() == null ? 1 : c.moe().numExperts(), k = c.moe() == null ? 1 : c.moe().topK();
        for (TensorSpec s : WeightLayout.expected(c)) {
            long n = s.numel();
            total += n;
            HubNames.Part part = HubNames.partOf(s.name());
            if (part == HubNames.Part.VISION) vision += n;
            if (part == HubNames.Part.LM_HEAD) lmHead += n;
            if (s.name().startsWith(HubNames.DECODER)) {
                llm += n;
                if (part == HubNames.Part.MOE_EXPERTS) experts += n;
            }
        }
        return new ParameterCounts(total, llm, llm - experts + experts / m * k, llm - experts, lmHead, vision);
    }
}

package ai.polyv.loader.layout;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where tensor names are spelled: canonical hub names (the original Qwen2.5-VL naming,
 * {@code visual.*}, {@code model.*}, {@code lm_head.weight}, plus PolyV's {@code mlp.gate},
 * {@code mlp.experts.E.*} and {@code synergy_heads.*}), built by {@link WeightLayout} and parsed back into
 * the parts of a model ({@link #partOf}). Stored names in another hub naming are translated by
 * {@link HubNaming} before they reach these functions.
 */
public final class HubNames {
    private HubNames() {}

    public static final String VISUAL = "visual.";
    public static final String DECODER = "model.";
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";
    public static final String SYNERGY_HEADS = "synergy_heads.";
    public static final String PATCH_EMBED = "visual.patch_embed.proj.weight";
    public static final String MERGER = "visual.merger.";

    private static final Pattern ROUTER = Pattern.compile("model\\.layers\\.(\\d+)\\.mlp\\.gate\\.weight");
    private static final Pattern EXPERT = Pattern.compile("model\\.layers\\.(\\d+)\\.mlp\\.experts\\.(\\d+)\\..+");
    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\..+");

    /** {@code visual.blocks.B.} */
    public static String visionBlock(int block) {
        return VISUAL + "blocks." + block + ".";
    }

    /** {@code model.layers.L.} */
    public static String layer(int layer) {
        return DECODER + "layers." + layer + ".";
    }

    /** {@code model.layers.L.self_attn.} */
    public static String attention(int layer) {
        return layer(layer) + "self_attn.";
    }

    /** {@code model.layers.L.mlp.}: the dense FFN's prefix, and the MoE FFN's. */
    public static String mlp(int layer) {
        return layer(layer) + "mlp.";
    }

    /** {@code model.layers.L.mlp.gate.weight}: the MoE router {@code [experts, hidden]}. */
    public static String router(int layer) {
        return mlp(layer) + "gate.weight";
    }

    /** {@code model.layers.L.mlp.experts.E.} */
    public static String expert(int layer, int expert) {
        return mlp(layer) + "experts." + expert + ".";
    }

    /** {@code synergy_heads.temporal.} or {@code synergy_heads.spatial.} */
    public static String synergyHead(String which) {
        return SYNERGY_HEADS + which + ".";
    }

    /** The parts of a model, as {@code polyv inspect} counts them. */
    public enum Part { VISION, EMBEDDINGS, DECODER_DENSE, MOE_ROUTERS, MOE_EXPERTS, SYNERGY_HEADS, LM_HEAD, OTHER }

    /** The part a canonical tensor name belongs to. */
    public static Part partOf(String name) {
        if (name.startsWith(VISUAL)) return Part.VISION;
        if (name.startsWith(SYNERGY_HEADS)) return Part.SYNERGY_HEADS;
        if (name.startsWith("lm_head.")) return Part.LM_HEAD;
        if (name.startsWith("model.embed_tokens.")) return Part.EMBEDDINGS;
        if (isExpert(name)) return Part.MOE_EXPERTS;
        if (isRouter(name)) return Part.MOE_ROUTERS;
        if (name.startsWith(DECODER)) return Part.DECODER_DENSE;
        return Part.OTHER;
    }

    /** {@code model.layers.N.mlp.gate.weight}. */
    public static boolean isRouter(String name) {
        return ROUTER.matcher(name).matches();
    }

    /** {@code model.layers.N.mlp.experts.E.*}. */
    public static boolean isExpert(String name) {
        return EXPERT.matcher(name).matches();
    }

    /** The decoder layer of {@code model.layers.L.*}, or -1. */
    public static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        if (!m.matches()) return -1;
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

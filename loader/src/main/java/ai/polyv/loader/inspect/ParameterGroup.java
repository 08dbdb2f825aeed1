package ai.polyv.loader.inspect;

import ai.polyv.loader.layout.HubNames;

/** The parts of a PolyV checkpoint that {@code polyv inspect} counts parameters for (by hub tensor name). */
public enum ParameterGroup {
    /** {@code visual.*}: the vision tower and merger. */
    VISION("vision"),
    /** {@code model.embed_tokens.*}. */
    EMBEDDINGS("embeddings"),
    /** {@code model.*} except embeddings, MoE routers and experts: attention, dense FFNs, norms. */
    DECODER_DENSE("decoder dense"),
    /** {@code *.mlp.gate.weight}: the MoE routers. */
    MOE_ROUTERS("moe routers"),
    /** {@code *.mlp.experts.*}: the MoE experts. */
    MOE_EXPERTS("moe experts"),
    /** {@code synergy_heads.*}: the synergy alignment heads. */
    SYNERGY_HEADS("synergy heads"),
    /** {@code lm_head.*}. */
    LM_HEAD("lm_head"),
    /** Anything else (not part of a PolyV checkpoint). */
    OTHER("other");

    private final String label;

    ParameterGroup(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The group a tensor belongs to, by canonical name ({@link HubNames#partOf}). */
    public static ParameterGroup of(String name) {
        return switch (HubNames.partOf(name)) {
            case VISION -> VISION;
            case EMBEDDINGS -> EMBEDDINGS;
            case DECODER_DENSE -> DECODER_DENSE;
            case MOE_ROUTERS -> MOE_ROUTERS;
            case MOE_EXPERTS -> MOE_EXPERTS;
            case SYNERGY_HEADS -> SYNERGY_HEADS;
            case LM_HEAD -> LM_HEAD;
            case OTHER -> OTHER;
        };
    }

    /** A count in the usual short form: 950, 12.3K, 8.29M, 11.3B (3 significant digits). */
    public static String human(long n) {
        if (n < 1000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 999.5 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        String num = v >= 99.95 ? String.format(java.util.Locale.ROOT, "%.0f", v)
                : v >= 9.995 ? String.format(java.util.Locale.ROOT, "%.1f", v)
                : String.format(java.util.Locale.ROOT, "%.2f", v);
        return num + units[u];
    }
}

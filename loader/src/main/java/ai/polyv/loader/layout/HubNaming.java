package ai.polyv.loader.layout;

import java.util.Collection;

/**
 * How a checkpoint on the hub names its tensors. Everything in polyv works with canonical names (the
 * {@link #ORIGINAL} naming, spelled by {@link HubNames}); a checkpoint in another naming is translated name
 * by name when it is read ({@link #stored}) and when its names are listed ({@link #canonical}).
 */
public enum HubNaming {
    /**
     * The naming Qwen2.5-VL was published with (transformers 4.x): {@code model.layers.*},
     * {@code model.embed_tokens.weight}, {@code model.norm.weight}, {@code visual.*}, {@code lm_head.weight}.
     */
    ORIGINAL("original (decoder under model., vision tower under visual.)", "model.", "visual."),
    /**
     * The naming transformers 5 writes ({@code save_pretrained}): the decoder under
     * {@code model.language_model.*}, the vision tower under {@code model.visual.*}, {@code lm_head.weight}
     * unchanged; its config.json nests the text keys in {@code text_config}.
     */
    TRANSFORMERS_5("transformers 5 (decoder under model.language_model., vision tower under model.visual.)", "model.language_model.", "model.visual.");

    private final String description;
    private final String decoder;   // stored prefix of canonical "model."
    private final String visual;    // stored prefix of canonical "visual."

    HubNaming(String description, String decoder, String visual) {
        this.description = description;
        this.decoder = decoder;
        this.visual = visual;
    }

    /** For people: the naming and its prefixes. */
    public String description() {
        return description;
    }

    /** The name a tensor with canonical name {@code name} has in a checkpoint of this naming. */
    public String stored(String name) {
        if (this == ORIGINAL) return name;
        if (name.startsWith(HubNames.VISUAL)) return visual + name.substring(HubNames.VISUAL.length());
        if (name.startsWith(HubNames.DECODER)) return decoder + name.substring(HubNames.DECODER.length());
        return name;
    }

    /** The canonical name of a tensor stored as {@code stored} in a checkpoint of this naming. */
    public String canonical(String stored) {
        if (this == ORIGINAL) return stored;
        if (stored.startsWith(visual)) return HubNames.VISUAL + stored.substring(visual.length());
        if (stored.startsWith(decoder)) return HubNames.DECODER + stored.substring(decoder.length());
        return stored;
    }

    /**
     * The naming of a checkpoint, from its tensor names: {@link #TRANSFORMERS_5} when any name starts with
     * {@code model.language_model.} or {@code model.visual.}, else {@link #ORIGINAL}.
     *
     * @param where named in the error (the checkpoint folder or file)
     * @throws IllegalArgumentException when both namings appear (naming one tensor of each)
     */
    public static HubNaming detect(Collection<String> names, String where) {
        String t5 = null, original = null;
        for (String n : names) {
            if (n.startsWith(TRANSFORMERS_5.decoder) || n.startsWith(TRANSFORMERS_5.visual)) {
                if (t5 == null) t5 = n;
            } else if (n.startsWith(HubNames.VISUAL) || n.startsWith(HubNames.DECODER + "layers.")
                    || n.equals(HubNames.EMBED_TOKENS) || n.equals(HubNames.FINAL_NORM)) {
                if (original == null) original = n;
            }
        }
        if (t5 != null && original != null) {
            throw new IllegalArgumentException(where + ": mixes two tensor namings: '" + original + "' (original) and '" + t5
                    + "' (transformers 5); a checkpoint must use one");
        }
        return t5 != null ? TRANSFORMERS_5 : ORIGINAL;
    }
}

package ai.polyv.tokenizer.prompt;

import ai.polyv.tokenizer.Tokenizer;

/**
 * The special token ids of the Qwen2.5-VL chat format. Turn markers come from the tokenizer; the vision
 * and synergy ids are the model's (config.json {@code image_token_id}, ..., {@code synergy.token_id}),
 * since they are what the model splices vision rows into.
 *
 * @param imStart     {@code <|im_start|>}
 * @param imEnd       {@code <|im_end|>}
 * @param visionStart {@code <|vision_start|>}
 * @param visionEnd   {@code <|vision_end|>}
 * @param imagePad    {@code <|image_pad|>}, one per merged image token
 * @param videoPad    {@code <|video_pad|>}, one per merged video token
 * @param synergy     the {@code <synergy>} id, or {@link #NONE} when the model has none
 */
public record ChatTokens(int imStart, int imEnd, int visionStart, int visionEnd, int imagePad, int videoPad, int synergy) {

    public static final int NONE = -1;

    public ChatTokens {
        requireId("<|im_start|>", imStart);
        requireId("<|im_end|>", imEnd);
        requireId("<|vision_start|>", visionStart);
        requireId("<|vision_end|>", visionEnd);
        requireId("<|image_pad|>", imagePad);
        requireId("<|video_pad|>", videoPad);
        if (synergy < NONE) throw new IllegalArgumentException("synergy token id must be >= 0 (or NONE), got " + synergy);
    }

    private static void requireId(String what, int id) {
        if (id < 0) throw new IllegalArgumentException(what + " id must be >= 0, got " + id);
    }

    /**
     * All ids looked up by their strings in {@code tokenizer}; {@code synergy} is {@code <synergy>} if the
     * tokenizer has it, else {@link #NONE}.
     *
     * @throws IllegalArgumentException naming the first missing token and the tokenizer
     */
    public static ChatTokens of(Tokenizer tokenizer) {
        return new ChatTokens(tokenizer.tokenId("<|im_start|>"), tokenizer.tokenId("<|im_end|>"),
                tokenizer.tokenId("<|vision_start|>"), tokenizer.tokenId("<|vision_end|>"),
                tokenizer.tokenId("<|image_pad|>"), tokenizer.tokenId("<|video_pad|>"),
                tokenizer.hasToken("<synergy>") ? tokenizer.tokenId("<synergy>") : NONE);
    }

    /** The same turn markers with the model's vision and synergy ids. */
    public ChatTokens withModelIds(int visionStart, int visionEnd, int imagePad, int videoPad, int synergy) {
        return new ChatTokens(imStart, imEnd, visionStart, visionEnd, imagePad, videoPad, synergy);
    }
}

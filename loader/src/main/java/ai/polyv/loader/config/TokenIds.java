package ai.polyv.loader.config;

import java.util.List;

/**
 * Special token ids from config.json (defaults: Qwen2.5-VL's).
 *
 * @param imageTokenId       {@code <|image_pad|>} ({@code image_token_id}, 151655)
 * @param videoTokenId       {@code <|video_pad|>} ({@code video_token_id}, 151656)
 * @param visionStartTokenId {@code <|vision_start|>} ({@code vision_start_token_id}, 151652)
 * @param visionEndTokenId   {@code <|vision_end|>} ({@code vision_end_token_id}, 151653)
 * @param bosTokenId         {@code bos_token_id}, null if absent
 * @param eosTokenIds        {@code eos_token_id}: one id or a list in hub configs; empty if absent
 */
public record TokenIds(int imageTokenId, int videoTokenId, int visionStartTokenId, int visionEndTokenId,
                       Integer bosTokenId, List<Integer> eosTokenIds) {
    public TokenIds {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /** The first eos id, or -1 if none is configured. */
    public int eosTokenId() {
        return eosTokenIds.isEmpty() ? -1 : eosTokenIds.getFirst();
    }

    public boolean isEos(int id) {
        return eosTokenIds.contains(id);
    }
}

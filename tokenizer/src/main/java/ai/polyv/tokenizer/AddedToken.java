package ai.polyv.tokenizer;

/**
 * One entry of tokenizer.json's {@code added_tokens}. {@code lstrip}/{@code rstrip} make a match swallow
 * the White_Space next to it; {@code normalized} tokens are matched in normalized text, the others in the
 * raw input; {@code special} tokens are dropped by {@code decode(ids, true)}. {@code single_word=true} is
 * rejected at load time.
 */
public record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
                         boolean normalized, boolean special) {}

package ai.polyv.core.generate;

/**
 * Receives generated tokens as they are chosen: the id and its text piece from the tokenizer's
 * {@link ai.polyv.tokenizer.StreamingDecoder}, so a piece never ends inside a UTF-8 character (it is
 * empty while a multi-byte character is still arriving, and empty for every token when the model has
 * no tokenizer or the id has no text, e.g. a padded vocabulary id). Stop tokens are not passed on.
 * If bytes are still held back when generation ends, one last call with id {@link #END} carries them
 * (as U+FFFD replacement characters); the concatenation of all pieces is the result's text.
 */
@FunctionalInterface
public non-sealed interface TokenConsumer extends TokenListener {

    /** The id of the final flush call. */
    int END = -1;

    /** Ignores every token. */
    TokenConsumer NONE = (id, text) -> { };

    void accept(int id, String text);
}

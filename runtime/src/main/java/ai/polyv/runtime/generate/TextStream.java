package ai.polyv.runtime.generate;

import ai.polyv.tokenizer.StreamingDecoder;
import ai.polyv.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * The text side of one request's generated ids: each id goes through the tokenizer's {@link StreamingDecoder}
 * (no text without a tokenizer, or for an id the tokenizer does not have) and its piece to the request's
 * {@link TokenConsumer}; {@link #finish} flushes held-back bytes (one last {@link TokenConsumer#END} call) and
 * returns the whole text.
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final StreamingDecoder decoder;
    private final TokenConsumer consumer;
    private final StringBuilder text = new StringBuilder();

    /** {@code tokenizer} may be null (raw ids only: every piece is empty). */
    public TextStream(Tokenizer tokenizer, boolean skipSpecialTokens, TokenConsumer consumer) {
        this.tokenizer = tokenizer;
        this.decoder = tokenizer == null ? null : tokenizer.streamingDecoder(skipSpecialTokens);
        this.consumer = Objects.requireNonNull(consumer, "consumer");
    }

    public void push(int id) {
        String piece = decoder != null && tokenizer.hasId(id) ? decoder.push(id) : "";
        text.append(piece);
        consumer.accept(id, piece);
    }

    /** Ends the stream; returns the text of every piece (including the final flush). */
    public String finish() {
        if (decoder != null) {
            String tail = decoder.flush();
            if (!tail.isEmpty()) {
                text.append(tail);
                consumer.accept(TokenConsumer.END, tail);
            }
        }
        return text.toString();
    }
}

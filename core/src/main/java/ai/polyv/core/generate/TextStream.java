package ai.polyv.core.generate;

import ai.polyv.tokenizer.StreamingDecoder;
import ai.polyv.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * The text side of one request's generated ids: each id goes through the tokenizer's {@link StreamingDecoder}
 * (no text without a tokenizer, or for an id the tokenizer does not have) and its piece to the request's
 * {@link TokenConsumer}; {@link #finish} flushes held-back bytes (one last {@link TokenConsumer#END} call) and
 * returns the whole text.
 *
 * <p>With stop strings, text that could be the start of one is held back until the next pieces show it is not;
 * when the text contains one, {@link #push} returns true, the text ends just before it, and nothing after is
 * streamed (a piece may then carry text of earlier tokens: it is passed with the id that released it).
 */
public final class TextStream {
    private final Tokenizer tokenizer;
    private final StreamingDecoder decoder;
    private final TokenConsumer consumer;
    private final StringBuilder text = new StringBuilder();
    private final java.util.List<String> stops;
    private String held = "";      // text not streamed yet: it may begin a stop string
    private boolean stopped;

    /** {@code tokenizer} may be null (raw ids only: every piece is empty). */
    public TextStream(Tokenizer tokenizer, boolean skipSpecialTokens, TokenConsumer consumer) {
        this(tokenizer, skipSpecialTokens, java.util.List.of(), consumer);
    }

    /** With stop strings (non-empty; they need a tokenizer to be seen). */
    public TextStream(Tokenizer tokenizer, boolean skipSpecialTokens, java.util.List<String> stopStrings, TokenConsumer consumer) {
        this.tokenizer = tokenizer;
        this.decoder = tokenizer == null ? null : tokenizer.streamingDecoder(skipSpecialTokens);
        this.stops = java.util.List.copyOf(stopStrings);
        this.consumer = Objects.requireNonNull(consumer, "consumer");
    }

    /** Streams token {@code id}; returns true when the text now contains a stop string (nothing more is streamed). */
    public boolean push(int id) {
        if (stopped) return true;
        String piece = decoder != null && tokenizer.hasId(id) ? decoder.push(id) : "";
        return release(id, piece, false);
    }

    /** Ends the stream; returns the text of every piece (including the final flush). */
    public String finish() {
        if (!stopped) release(TokenConsumer.END, decoder == null ? "" : decoder.flush(), true);
        return text.toString();
    }

    /** Adds {@code piece} to the held text; streams what can no longer start a stop string. */
    private boolean release(int id, String piece, boolean last) {
        String t = held + piece;
        int cut = -1;
        for (String s : stops) {
            int at = t.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        String out;
        if (cut >= 0) {
            out = t.substring(0, cut);
            held = "";
            stopped = true;
        } else {
            int keep = last ? 0 : heldSuffix(t);
            out = t.substring(0, t.length() - keep);
            held = t.substring(t.length() - keep);
        }
        text.append(out);
        if (id != TokenConsumer.END || !out.isEmpty()) consumer.accept(id, out);   // every generated id is passed on
        return stopped;
    }

    /** The longest suffix of {@code t} that is a proper prefix of a stop string. */
    private int heldSuffix(String t) {
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, t.length()); k > best; k--) {
                if (t.regionMatches(t.length() - k, s, 0, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}

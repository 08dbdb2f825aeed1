package ai.polyv.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Incremental decoding of generated ids: {@link #push} returns the text that became complete (never half a
 * UTF-8 character; often the empty string while a multi-byte character is still arriving), {@link #flush}
 * returns what is left (ill-formed leftovers become U+FFFD). The concatenation of all returned pieces equals
 * {@link Tokenizer#decode} of all pushed ids. Not thread-safe; one per generation stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private byte[] pending = new byte[16];
    private int n;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one id; returns the newly completed text (maybe empty). Unknown ids throw. */
    public String push(int id) {
        byte[] b = tokenizer.bytesOf(id);
        if (skipSpecial && tokenizer.isSpecial(id)) {
            return "";
        }
        if (n + b.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(2 * pending.length, n + b.length));
        }
        System.arraycopy(b, 0, pending, n, b.length);
        n += b.length;
        int cut = completePrefix(pending, n);
        if (cut == 0) {
            return "";
        }
        String s = new String(pending, 0, cut, StandardCharsets.UTF_8);
        System.arraycopy(pending, cut, pending, 0, n - cut);
        n -= cut;
        return s;
    }

    /** Returns the remaining text; ill-formed or truncated bytes become U+FFFD. */
    public String flush() {
        String s = new String(pending, 0, n, StandardCharsets.UTF_8);
        n = 0;
        return s;
    }

    /** Number of bytes held back (the start of an unfinished character). */
    public int pendingBytes() {
        return n;
    }

    /**
     * Length of the longest prefix of {@code b[0, len)} that does not end inside a possibly unfinished
     * UTF-8 sequence: a lead byte in the last 3 bytes followed only by continuation bytes, fewer than it needs.
     */
    static int completePrefix(byte[] b, int len) {
        for (int back = 1; back <= 3 && back <= len; back++) {
            int x = b[len - back] & 0xFF;
            if (x < 0x80) {
                return len; // ASCII: everything before and including it is complete
            }
            if (x >= 0xC0) { // lead byte
                int need = x >= 0xF0 ? 4 : x >= 0xE0 ? 3 : 2;
                return back < need && x < 0xF8 ? len - back : len;
            }
            // continuation byte: keep looking for its lead
        }
        return len;
    }
}

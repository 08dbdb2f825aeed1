package ai.polyv.tokenizer;

import ai.polyv.loader.util.PathChecks;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Byte-level BPE tokenizer loaded from a HF {@code tokenizer.json} (Qwen2 / GPT-2 family), producing the same
 * ids as HF tokenizers' {@code encode(text, add_special_tokens=False)}.
 *
 * <p>Pipeline of {@link #encode}: (0) lone surrogates in the Java string become U+FFFD (what a lossy
 * UTF-16 to UTF-8 conversion gives, and what HF sees when handed such a string from JS or Python with
 * {@code errors="replace"}); (1) added tokens with {@code normalized=false} are matched in the raw text
 * (leftmost-longest); (2) each remaining segment is normalized (NFC), then added tokens with
 * {@code normalized=true} are matched; (3) the pre-tokenizer splits it; (4) each pre-token's UTF-8 bytes go
 * through BPE. The post-processor is never applied (same as {@code add_special_tokens=False}).
 *
 * <p>{@link #decode} concatenates token bytes and decodes them as UTF-8, replacing ill-formed
 * subsequences with U+FFFD (Java's UTF-8 decoder; HF uses Rust's {@code from_utf8_lossy}).
 * Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final String source;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Bpe bpe;
    private final AddedTokenMatcher rawAdded;        // normalized=false
    private final AddedTokenMatcher normalizedAdded; // normalized=true
    private final Map<String, Integer> tokenToId;    // vocab strings and added contents (added win)
    private final String[] idToToken;                // [vocabSize], null for holes
    private final byte[][] tokenBytes;               // [vocabSize] decoded bytes of each token, null for holes
    private final boolean[] special;                 // [vocabSize]
    private final List<AddedToken> addedTokens;
    private final String postProcessor;

    Tokenizer(String source, TextNormalizer normalizer, PreTokenizer preTokenizer, Bpe bpe,
              List<AddedToken> addedTokens, Map<String, Integer> tokenToId, String[] idToToken,
              byte[][] tokenBytes, boolean[] special, String postProcessor) {
        this.source = source;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.addedTokens = List.copyOf(addedTokens);
        this.rawAdded = new AddedTokenMatcher(addedTokens.stream().filter(t -> !t.normalized()).toList(),
                new TextNormalizer.Identity());
        this.normalizedAdded = new AddedTokenMatcher(addedTokens.stream().filter(AddedToken::normalized).toList(),
                normalizer);
        this.tokenToId = tokenToId;
        this.idToToken = idToToken;
        this.tokenBytes = tokenBytes;
        this.special = special;
        this.postProcessor = postProcessor;
    }

    /** Loads a tokenizer.json; unsupported components fail with an {@link IllegalArgumentException} naming them. */
    public static Tokenizer load(Path tokenizerJson) {
        PathChecks.regularFile("tokenizer", tokenizerJson);
        try (InputStream in = Files.newInputStream(tokenizerJson)) {
            return load(in, tokenizerJson.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    public static Tokenizer load(InputStream json, String sourceName) {
        return TokenizerJson.read(json, sourceName);
    }

    /** Token ids of {@code text}; added/special tokens written in the text are matched as such. */
    public int[] encode(String text) {
        Scratch s = SCRATCH.get();
        IntList out = s.out;
        out.clear();
        char[] a = sanitize(text);
        int[] m = s.match;
        int pos = 0;
        while (pos < a.length) {
            if (rawAdded.find(a, pos, a.length, pos, m)) {
                int start = m[0];
                int stop = m[1];
                int id = m[2];
                encodeSegment(a, pos, start, s, out);
                out.add(id);
                pos = stop;
            } else {
                encodeSegment(a, pos, a.length, s, out);
                break;
            }
        }
        int[] ids = out.toArray();
        s.trim();
        return ids;
    }

    private void encodeSegment(char[] a, int from, int to, Scratch s, IntList out) {
        if (from >= to) {
            return;
        }
        String norm = normalizer.normalizeOrNull(a, from, to);
        if (norm != null) {
            a = norm.toCharArray();
            from = 0;
            to = a.length;
        }
        if (normalizedAdded.isEmpty) {
            encodeWords(a, from, to, s, out);
            return;
        }
        int[] m = new int[3];
        int pos = from;
        while (pos < to) {
            if (normalizedAdded.find(a, pos, to, pos, m)) {
                encodeWords(a, pos, m[0], s, out);
                out.add(m[2]);
                pos = m[1];
            } else {
                encodeWords(a, pos, to, s, out);
                break;
            }
        }
    }

    private void encodeWords(char[] a, int from, int to, Scratch s, IntList out) {
        PreTokenizer pre = preTokenizer;
        Bpe model = bpe;
        int i = from;
        while (i < to) {
            int j = pre.next(a, i, to);
            byte[] buf = s.bytes(3 * (j - i));
            int n = 0;
            for (int k = i; k < j; k++) {
                char c = a[k];
                if (c < 0x80) {
                    buf[n++] = (byte) c;
                } else if (c < 0x800) {
                    buf[n++] = (byte) (0xC0 | (c >> 6));
                    buf[n++] = (byte) (0x80 | (c & 0x3F));
                } else if (Character.isHighSurrogate(c) && k + 1 < j) {
                    int cp = Character.toCodePoint(c, a[++k]);
                    buf[n++] = (byte) (0xF0 | (cp >> 18));
                    buf[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                    buf[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                    buf[n++] = (byte) (0x80 | (cp & 0x3F));
                } else {
                    buf[n++] = (byte) (0xE0 | (c >> 12));
                    buf[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    buf[n++] = (byte) (0x80 | (c & 0x3F));
                }
            }
            model.encodeWord(buf, n, out, s);
            i = j;
        }
    }

    /** Chars of {@code text} with every unpaired surrogate replaced by U+FFFD. */
    static char[] sanitize(String text) {
        char[] a = text.toCharArray();
        for (int i = 0; i < a.length; i++) {
            char c = a[i];
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < a.length && Character.isLowSurrogate(a[i + 1])) {
                    i++;
                } else {
                    a[i] = '\uFFFD';
                }
            }
        }
        return a;
    }

    /** Text of {@code ids}, special tokens included. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** Text of {@code ids}; unknown ids throw {@link IllegalArgumentException} naming the id. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int total = 0;
        for (int id : ids) {
            total += bytesOf(id).length;
        }
        byte[] buf = new byte[total];
        int n = 0;
        for (int id : ids) {
            if (skipSpecialTokens && special[id]) {
                continue;
            }
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /** The bytes a token stands for (vocab: via the byte-level alphabet; added token: its content's UTF-8). */
    public byte[] tokenBytes(int id) {
        return bytesOf(id).clone();
    }

    byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("unknown token id " + id + " (vocab size " + tokenBytes.length
                    + ", tokenizer " + source + ")");
        }
        return tokenBytes[id];
    }

    /** Whether {@code id} is a token of this tokenizer (a model's vocabulary may be larger, padded). */
    public boolean hasId(int id) {
        return id >= 0 && id < tokenBytes.length && tokenBytes[id] != null;
    }

    /** Whether {@code id} is an added token marked {@code special}. */
    public boolean isSpecial(int id) {
        bytesOf(id);
        return special[id];
    }

    /** Vocab size including added tokens: max id + 1. */
    public int vocabSize() {
        return idToToken.length;
    }

    /** Id of an exact token string (added token content or vocab entry such as {@code "Ġhello"}). */
    public int tokenId(String token) {
        Integer id = tokenToId.get(token);
        if (id == null) {
            throw new IllegalArgumentException("token '" + token + "' is not in the vocabulary of " + source);
        }
        return id;
    }

    /** Whether {@link #tokenId} knows {@code token}. */
    public boolean hasToken(String token) {
        return tokenToId.containsKey(token);
    }

    /** The token string of {@code id} as written in tokenizer.json. */
    public String tokenString(int id) {
        bytesOf(id);
        return idToToken[id];
    }

    public List<AddedToken> addedTokens() {
        return addedTokens;
    }

    /** Type of tokenizer.json's post_processor (null if none); {@link #encode} never applies it. */
    public String postProcessor() {
        return postProcessor;
    }

    public String source() {
        return source;
    }

    /** A new decoder for generated ids that emits text only at UTF-8 character boundaries. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this, false);
    }

    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocab " + vocabSize() + ", " + normalizer + ", "
                + preTokenizer.describe() + ", added " + addedTokens.size() + "]";
    }

    /** For tests: the pre-tokenizer's split of {@code text} (no added-token matching, no normalization). */
    List<String> preTokenize(String text) {
        char[] a = text.toCharArray();
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        int i = 0;
        while (i < a.length) {
            int j = preTokenizer.next(a, i, a.length);
            out.add(new String(a, i, j - i));
            i = j;
        }
        return out;
    }

    Bpe bpe() {
        return bpe;
    }

    static int[] copy(int[] a) {
        return Arrays.copyOf(a, a.length);
    }
}

package ai.polyv.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads HF tokenizer.json into a {@link Tokenizer}; every component is either supported or rejected by name. */
final class TokenizerJson {
    private static final Set<String> TOP_LEVEL = Set.of("version", "truncation", "padding", "added_tokens",
            "normalizer", "pre_tokenizer", "post_processor", "decoder", "model");

    private final String src;

    private TokenizerJson(String src) {
        this.src = src;
    }

    static Tokenizer read(InputStream in, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse tokenizer " + source + " as JSON: " + e.getMessage(), e);
        }
        return new TokenizerJson(source).build(root);
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("tokenizer " + src + ": " + what);
    }

    private Tokenizer build(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw bad("expected a JSON object at the top level");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!TOP_LEVEL.contains(f)) {
                throw bad("unknown top-level field '" + f + "' (expected one of " + TOP_LEVEL + ")");
            }
        }
        if (!isNull(root.get("truncation"))) {
            throw bad("'truncation' is set; truncation is not supported (expected null)");
        }
        if (!isNull(root.get("padding"))) {
            throw bad("'padding' is set; padding is not supported (expected null)");
        }
        TextNormalizer normalizer = normalizer(root.get("normalizer"), "normalizer");
        PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"));
        decoder(root.get("decoder"), "decoder");
        JsonNode pp = root.get("post_processor");
        String postProcessor = isNull(pp) ? null : text(pp, "type", "post_processor");

        JsonNode model = root.get("model");
        if (isNull(model)) {
            throw bad("missing 'model'");
        }
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw bad("model type '" + type + "' is not supported (expected BPE)");
        }
        if (!isNull(model.get("dropout")) && model.get("dropout").asDouble() != 0.0) {
            throw bad("model.dropout " + model.get("dropout") + " is not supported (expected null)");
        }
        for (String f : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!isNull(model.get(f)) && !model.get(f).asText().isEmpty()) {
                throw bad("model." + f + " '" + model.get(f).asText() + "' is not supported (expected empty)");
            }
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw bad("model.byte_fallback=true is not supported (byte-level BPE needs no fallback)");
        }
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);

        JsonNode vocabNode = model.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw bad("model.vocab must be an object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw bad("model.vocab['" + e.getKey() + "'] = " + e.getValue() + " is not a non-negative int id");
            }
            int id = e.getValue().asInt();
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }

        List<AddedToken> added = new ArrayList<>();
        JsonNode at = root.get("added_tokens");
        if (!isNull(at)) {
            int i = 0;
            for (JsonNode t : at) {
                String where = "added_tokens[" + i++ + "]";
                AddedToken tok = new AddedToken(intField(t, "id", where), text(t, "content", where),
                        t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                        t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(true),
                        t.path("special").asBoolean(false));
                if (tok.singleWord()) {
                    throw bad(where + " ('" + tok.content() + "') has single_word=true, which is not supported");
                }
                if (tok.content().isEmpty()) {
                    throw bad(where + " has empty content");
                }
                added.add(tok);
                maxId = Math.max(maxId, tok.id());
            }
        }

        int size = maxId + 1;
        String[] idToToken = new String[size];
        byte[][] tokenBytes = new byte[size][];
        byte[][] vocabBytes = new byte[size][];
        boolean[] special = new boolean[size];
        for (var e : vocab.entrySet()) {
            byte[] b = ByteLevel.toBytes(e.getKey());
            idToToken[e.getValue()] = e.getKey();
            tokenBytes[e.getValue()] = b != null ? b : e.getKey().getBytes(StandardCharsets.UTF_8);
            vocabBytes[e.getValue()] = b;
        }
        Map<String, Integer> tokenToId = new HashMap<>(vocab);
        for (AddedToken t : added) {
            byte[] b = ByteLevel.toBytes(t.content()); // HF's ByteLevel decoder: alphabet chars map to bytes,
            idToToken[t.id()] = t.content();            // a token with any other char is taken as UTF-8
            tokenBytes[t.id()] = b != null ? b : t.content().getBytes(StandardCharsets.UTF_8);
            special[t.id()] = t.special();
            tokenToId.put(t.content(), t.id());
        }

        int[] byteToId = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            if (id == null) {
                throw bad("model.vocab lacks the byte-level token for byte 0x" + Integer.toHexString(b)
                        + " ('" + ByteLevel.BYTE_TO_CHAR[b] + "'); not a byte-level BPE vocabulary");
            }
            byteToId[b] = id;
        }

        JsonNode merges = model.get("merges");
        if (merges == null || !merges.isArray()) {
            throw bad("model.merges must be an array");
        }
        int nm = merges.size();
        int[] left = new int[nm];
        int[] right = new int[nm];
        int[] result = new int[nm];
        for (int r = 0; r < nm; r++) {
            JsonNode m = merges.get(r);
            String a;
            String b;
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                    throw bad("model.merges[" + r + "] '" + s + "' is not of the form 'a b'");
                }
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw bad("model.merges[" + r + "] " + m + " is neither 'a b' nor [\"a\", \"b\"]");
            }
            left[r] = vocabId(vocab, a, r);
            right[r] = vocabId(vocab, b, r);
            result[r] = vocabId(vocab, a + b, r);
        }
        Bpe bpe = new Bpe(byteToId, left, right, result, ignoreMerges ? new BytesToId(vocabBytes) : null);
        return new Tokenizer(src, normalizer, pre, bpe, added, tokenToId, idToToken, tokenBytes, special, postProcessor);
    }

    private int vocabId(Map<String, Integer> vocab, String token, int rank) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw bad("model.merges[" + rank + "] uses token '" + token + "' which is not in model.vocab");
        }
        return id;
    }

    private TextNormalizer normalizer(JsonNode n, String where) {
        if (isNull(n)) {
            return new TextNormalizer.Identity();
        }
        String type = text(n, "type", where);
        switch (type) {
            case "NFC":
                return new TextNormalizer.Nfc();
            case "Sequence": {
                TextNormalizer result = new TextNormalizer.Identity();
                int i = 0;
                for (JsonNode c : n.path("normalizers")) {
                    if (normalizer(c, where + ".normalizers[" + i++ + "]") instanceof TextNormalizer.Nfc) {
                        result = new TextNormalizer.Nfc(); // NFC is idempotent: NFC, NFC == NFC
                    }
                }
                return result;
            }
            default:
                throw bad(where + " type '" + type + "' is not supported (supported: NFC, Sequence of NFC, null)");
        }
    }

    private PreTokenizer preTokenizer(JsonNode n) {
        if (isNull(n)) {
            throw bad("pre_tokenizer is null; a byte-level BPE tokenizer needs ByteLevel");
        }
        String type = text(n, "type", "pre_tokenizer");
        if (type.equals("ByteLevel")) {
            byteLevel(n, "pre_tokenizer");
            if (!n.path("use_regex").asBoolean(true)) {
                throw bad("pre_tokenizer ByteLevel with use_regex=false and no Split is not supported");
            }
            return PreTokenizer.forPattern(PreTokenizer.GPT2_PATTERN);
        }
        if (!type.equals("Sequence")) {
            throw bad("pre_tokenizer type '" + type + "' is not supported (expected Sequence[Split, ByteLevel] or ByteLevel)");
        }
        JsonNode list = n.path("pretokenizers");
        if (list.size() != 2 || !"Split".equals(list.get(0).path("type").asText())
                || !"ByteLevel".equals(list.get(1).path("type").asText())) {
            StringBuilder types = new StringBuilder();
            for (JsonNode c : list) {
                types.append(types.isEmpty() ? "" : ", ").append(c.path("type").asText("?"));
            }
            throw bad("pre_tokenizer Sequence[" + types + "] is not supported (expected Sequence[Split, ByteLevel])");
        }
        JsonNode split = list.get(0);
        String where = "pre_tokenizer.pretokenizers[0] (Split)";
        String behavior = text(split, "behavior", where);
        if (!behavior.equals("Isolated")) {
            throw bad(where + " behavior '" + behavior + "' is not supported (expected Isolated)");
        }
        if (split.path("invert").asBoolean(false)) {
            throw bad(where + " invert=true is not supported");
        }
        JsonNode pattern = split.path("pattern");
        String regex;
        if (pattern.has("Regex")) {
            regex = pattern.get("Regex").asText();
        } else if (pattern.has("String")) {
            regex = java.util.regex.Pattern.quote(pattern.get("String").asText());
        } else {
            throw bad(where + " pattern " + pattern + " is neither {\"Regex\": ..} nor {\"String\": ..}");
        }
        JsonNode bl = list.get(1);
        byteLevel(bl, "pre_tokenizer.pretokenizers[1] (ByteLevel)");
        if (bl.path("use_regex").asBoolean(true)) {
            throw bad("pre_tokenizer.pretokenizers[1] (ByteLevel) use_regex=true after a Split is not supported");
        }
        return PreTokenizer.forPattern(regex);
    }

    private void byteLevel(JsonNode n, String where) {
        if (n.path("add_prefix_space").asBoolean(false)) {
            throw bad(where + " add_prefix_space=true is not supported");
        }
    }

    private void decoder(JsonNode n, String where) {
        if (isNull(n)) {
            throw bad(where + " is null; a byte-level BPE tokenizer needs the ByteLevel decoder");
        }
        String type = text(n, "type", where);
        if (type.equals("ByteLevel")) {
            return;
        }
        if (type.equals("Sequence") && n.path("decoders").size() == 1) {
            decoder(n.path("decoders").get(0), where + ".decoders[0]");
            return;
        }
        throw bad(where + " type '" + type + "' is not supported (expected ByteLevel)");
    }

    private static boolean isNull(JsonNode n) {
        return n == null || n.isNull();
    }

    private String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw bad(where + "." + field + " must be a string, got " + v);
        }
        return v.asText();
    }

    private int intField(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt() || v.asInt() < 0) {
            throw bad(where + "." + field + " must be a non-negative int, got " + v);
        }
        return v.asInt();
    }
}

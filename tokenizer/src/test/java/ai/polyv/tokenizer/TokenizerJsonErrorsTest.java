package ai.polyv.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Every unsupported tokenizer.json component is rejected with an error naming it. The base file is a small
 * byte-level BPE with the Qwen2 normalizer, pre-tokenizer and decoder (256 byte tokens plus one merge).
 */
class TokenizerJsonErrorsTest {
    private static final ObjectMapper M = new ObjectMapper();
    private static final String QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static ObjectNode base() {
        ObjectNode root = M.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode eot = added.addObject();
        eot.put("id", 257).put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", true);
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pts = pre.putArray("pretokenizers");
        ObjectNode split = pts.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", QWEN_SPLIT);
        split.put("behavior", "Isolated").put("invert", false);
        pts.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                .put("use_regex", false);
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", false);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]), b);
        }
        vocab.put("ab", 256);
        model.putArray("merges").add("a b");
        return root;
    }

    static Tokenizer load(ObjectNode json) throws Exception {
        return Tokenizer.load(new ByteArrayInputStream(M.writeValueAsBytes(json)), "test-tokenizer.json");
    }

    static void assertRejected(Consumer<ObjectNode> change, String... fragments) {
        ObjectNode json = base();
        change.accept(json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(json));
        assertTrue(e.getMessage().startsWith("tokenizer test-tokenizer.json: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    @Test
    void baseFileLoadsAndMerges() throws Exception {
        Tokenizer t = load(base());
        assertArrayEquals(new int[] {256, 'c', 257}, t.encode("abc<|endoftext|>"));
    }

    @Test
    void unsupportedModelTypes() {
        assertRejected(j -> ((ObjectNode) j.get("model")).put("type", "WordPiece"), "model type 'WordPiece'", "expected BPE");
        assertRejected(j -> ((ObjectNode) j.get("model")).put("type", "Unigram"), "model type 'Unigram'");
        assertRejected(j -> ((ObjectNode) j.get("model")).put("byte_fallback", true), "model.byte_fallback");
        assertRejected(j -> ((ObjectNode) j.get("model")).put("dropout", 0.1), "model.dropout");
        assertRejected(j -> ((ObjectNode) j.get("model")).put("continuing_subword_prefix", "##"),
                "model.continuing_subword_prefix '##'");
    }

    @Test
    void unsupportedNormalizers() {
        assertRejected(j -> j.putObject("normalizer").put("type", "Lowercase"), "normalizer", "'Lowercase'");
        assertRejected(j -> j.putObject("normalizer").put("type", "NFKC"), "'NFKC'");
    }

    @Test
    void unsupportedPreTokenizers() {
        assertRejected(j -> j.putObject("pre_tokenizer").put("type", "Whitespace"), "pre_tokenizer type 'Whitespace'");
        assertRejected(j -> j.putObject("pre_tokenizer").put("type", "Metaspace"), "pre_tokenizer type 'Metaspace'");
        assertRejected(j -> j.putNull("pre_tokenizer"), "pre_tokenizer is null");
        assertRejected(j -> ((ObjectNode) j.at("/pre_tokenizer/pretokenizers/0")).put("behavior", "Removed"),
                "behavior 'Removed'");
        assertRejected(j -> ((ObjectNode) j.at("/pre_tokenizer/pretokenizers/0")).put("invert", true), "invert=true");
    }

    @Test
    void unsupportedDecodersAndOptions() {
        assertRejected(j -> j.putObject("decoder").put("type", "WordPiece"), "decoder", "'WordPiece'");
        assertRejected(j -> j.putNull("decoder"), "decoder", "is null");
        assertRejected(j -> j.putObject("truncation").put("max_length", 8), "'truncation'");
        assertRejected(j -> j.putObject("padding").put("strategy", "BatchLongest"), "'padding'");
        assertRejected(j -> j.put("extra", 1), "unknown top-level field 'extra'");
        assertRejected(j -> ((ObjectNode) j.at("/added_tokens/0")).put("single_word", true), "single_word=true");
    }

    @Test
    void brokenVocabAndMerges() {
        assertRejected(j -> ((ObjectNode) j.at("/model/vocab")).remove(String.valueOf(ByteLevel.BYTE_TO_CHAR[0x41])),
                "byte-level token for byte 0x41");
        assertRejected(j -> ((ArrayNode) j.at("/model/merges")).add("a zz"), "model.merges[1]", "'zz'");
        assertRejected(j -> ((ArrayNode) j.at("/model/merges")).add("abc"), "model.merges[1] 'abc'");
    }
}

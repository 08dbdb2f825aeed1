package ai.polyv.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Edge cases (case-folded contractions incl. U+017F, 5,000 repeated letters, all code points below U+0800,
 * Unicode White_Space, special-token look-alikes, combining marks) encoded by HF tokenizers 0.22 through
 * {@code bench/hf-tokenizers/hf.js encode} from {@code golden-hf-edge-texts.json}:
 * {@code node bench/hf-tokenizers/hf.js encode ../shared/tokenizer/qwen/tokenizer.json
 * tokenizer/src/test/resources/golden-hf-edge-texts.json tokenizer/src/test/resources/golden-hf-edge.json}.
 */
class GoldenHfEdgeTest {

    static Stream<Arguments> samples() throws Exception {
        JsonNode root;
        try (InputStream in = GoldenHfEdgeTest.class.getResourceAsStream("/golden-hf-edge.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (JsonNode s : root.get("samples")) {
            int[] ids = new int[s.get("ids").size()];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = s.get("ids").get(k).asInt();
            }
            out.add(Arguments.of(i++, s.get("text").asText(), ids, s.get("decoded").asText()));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "edge sample {0}")
    @MethodSource("samples")
    void idsMatchHf(int index, String text, int[] ids, String decoded) {
        Tokenizer tok = QwenTokenizers.qwen();
        assertArrayEquals(ids, tok.encode(text), () -> "edge sample " + index + ": " + text);
        assertEquals(decoded, tok.decode(ids));
        assertEquals(Normalizer.normalize(text, Normalizer.Form.NFC), tok.decode(tok.encode(text)));
    }
}

package ai.polyv.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Ids must equal HF tokenizers' encodings in golden-hf.json, and decode must give back NFC(text). */
class GoldenHfTest {

    static Stream<Arguments> samples() throws Exception {
        JsonNode root = new ObjectMapper().readTree(QwenTokenizers.DIR.resolve("golden-hf.json").toFile());
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (JsonNode s : root.get("samples")) {
            int[] ids = new int[s.get("ids").size()];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = s.get("ids").get(k).asInt();
            }
            out.add(Arguments.of(i++, s.get("text").asText(), ids, s.get("decoded").asText()));
        }
        assertTrue(out.size() >= 20, "golden-hf.json should hold the 26 samples, found " + out.size());
        return out.stream();
    }

    @ParameterizedTest(name = "sample {0}")
    @MethodSource("samples")
    void idsMatchHf(int index, String text, int[] ids, String decoded) {
        Tokenizer tok = QwenTokenizers.qwen();
        assertArrayEquals(ids, tok.encode(text), () -> "sample " + index + ": " + text);
        assertEquals(decoded, tok.decode(ids));
        assertEquals(Normalizer.normalize(text, Normalizer.Form.NFC), tok.decode(tok.encode(text)));
    }
}

package ai.polyv.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private final Tokenizer tok = QwenTokenizers.qwen();

    @Test
    void emitsOnlyWholeCharactersForValidText() {
        String text = "Emoji 😀🎉👩\u200d👩\u200d👧 中文分词测试 ▁ ∑∫√∞ Ελληνικά <|im_end|> done";
        int[] ids = tok.encode(text);
        StreamingDecoder d = tok.streamingDecoder();
        StringBuilder all = new StringBuilder();
        int emptyPushes = 0;
        for (int id : ids) {
            String piece = d.push(id);
            assertFalse(piece.contains("\uFFFD"), "broken character emitted: " + piece);
            emptyPushes += piece.isEmpty() ? 1 : 0;
            all.append(piece);
        }
        assertEquals(0, d.pendingBytes());
        assertEquals("", d.flush());
        assertEquals(text, all.toString());
        assertEquals(true, emptyPushes > 0, "emoji are split over byte tokens, so some pushes must hold back");
    }

    @Test
    void singleByteTokensOfAFourByteCharacter() {
        StreamingDecoder d = tok.streamingDecoder();
        byte[] utf8 = "😀".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) {
            assertEquals("", d.push(byteToken(utf8[i] & 0xFF)));
            assertEquals(i + 1, d.pendingBytes());
        }
        assertEquals("😀", d.push(byteToken(utf8[3] & 0xFF)));
    }

    @Test
    void concatenationEqualsDecodeForArbitraryByteTokens() {
        Random r = new Random(11);
        int[] interesting = {0x41, 0x80, 0xBF, 0xC2, 0xC3, 0xE0, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0x98, 0xA0};
        for (int t = 0; t < 5000; t++) {
            int n = 1 + r.nextInt(8);
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = r.nextInt(4) == 0 ? r.nextInt(151669) : byteToken(interesting[r.nextInt(interesting.length)]);
            }
            StreamingDecoder d = tok.streamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append(d.push(id));
            }
            sb.append(d.flush());
            assertEquals(tok.decode(ids), sb.toString(), java.util.Arrays.toString(ids));
        }
    }

    @Test
    void skipSpecialTokens() {
        StreamingDecoder d = tok.streamingDecoder(true);
        StringBuilder sb = new StringBuilder();
        for (int id : tok.encode("<|im_start|>assistant\nHi!<|im_end|>")) {
            sb.append(d.push(id));
        }
        assertEquals("assistant\nHi!", sb.append(d.flush()).toString());
    }

    private int byteToken(int b) {
        return tok.tokenId(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
    }
}

package ai.polyv.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.text.Normalizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Behaviour of the real Qwen tokenizer beyond the HF golden samples. */
class TokenizerBehaviourTest {
    private final Tokenizer tok = QwenTokenizers.qwen();

    private static final String[] PIECES = {
        "The quick brown fox jumps over the lazy dog. ", "def f(x):\n    return x ** 2  # square\n\n",
        "中文分词测试：今天天气很好。", "Emoji 😀🎉👩\u200d👩\u200d👧 ", "Combining: e\u0301 vs é\n",
        "  \t\r\n", "Numbers 3.14159 -42 1e-5 ", "Ελληνικά και Русский ", "DON'T it'S we'll ",
    };

    @Test
    void vocabularyFacts() {
        assertEquals(151669, tok.vocabSize());
        assertEquals(151644, tok.tokenId("<|im_start|>"));
        assertEquals(9707, tok.tokenId("Hello"));
        assertEquals("Ġworld", tok.tokenString(1879));
        assertEquals("<|image_pad|>", tok.tokenString(151655));
        assertTrue(tok.isSpecial(151655));
        assertFalse(tok.isSpecial(151667)); // <think> is an added token but not special
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.tokenId("<synergy>"));
        assertTrue(e.getMessage().contains("<synergy>"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {1, 151669}));
        assertTrue(e.getMessage().contains("151669"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void skipSpecialTokensKeepsNonSpecialAddedTokens() {
        int[] ids = tok.encode("<|im_start|>user\nhi<think>x</think><|im_end|>");
        assertEquals(151644, ids[0]);
        assertEquals("user\nhi<think>x</think>", tok.decode(ids, true));
        assertEquals("<|im_start|>user\nhi<think>x</think><|im_end|>", tok.decode(ids, false));
    }

    @Test
    void textLongerThanOneMegabyte() {
        StringBuilder sb = new StringBuilder();
        List<Integer> expected = new ArrayList<>();
        int eot = tok.tokenId("<|endoftext|>");
        Random r = new Random(7);
        while (sb.length() < 1_100_000) {
            String doc = PIECES[r.nextInt(PIECES.length)] + PIECES[r.nextInt(PIECES.length)];
            sb.append(doc).append("<|endoftext|>");
            for (int id : tok.encode(doc)) {
                expected.add(id);
            }
            expected.add(eot);
        }
        String text = sb.toString();
        int[] ids = tok.encode(text);
        // added tokens cut the text into independent segments, so the big encode is the concatenation
        assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), ids);
        assertEquals(Normalizer.normalize(text, Normalizer.Form.NFC), tok.decode(ids));
    }

    @Test
    void tenThousandRepeatedCharactersAreNotQuadratic() {
        // hang guard, not a performance assertion: the O(n^2) merge loop would take minutes per string here
        for (String unit : new String[] {"a", "ab", "😀", " ", "1", "!", "\n", "é", "中"}) {
            String text = unit.repeat(10_000 / unit.length());
            int[] ids = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> tok.encode(text), unit);
            assertEquals(text, tok.decode(ids), unit);
        }
        // a letter run is one pre-token, so BPE sees a single 10,000-byte word
        assertEquals(List.of("a".repeat(10_000)), tok.preTokenize("a".repeat(10_000)));
    }

    @Test
    void everyByteValueDecodesAndRoundTrips() {
        for (int b = 0; b < 256; b++) {
            int id = tok.tokenId(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            assertArrayEquals(new byte[] {(byte) b}, tok.tokenBytes(id), "byte " + b);
        }
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < 256; c++) {
            sb.append((char) c);
        }
        String all = sb.toString();
        assertEquals(all, tok.decode(tok.encode(all)));
        // an isolated continuation byte or truncated sequence decodes to U+FFFD
        int cont = tok.tokenId(String.valueOf(ByteLevel.BYTE_TO_CHAR[0x80]));
        int lead = tok.tokenId(String.valueOf(ByteLevel.BYTE_TO_CHAR[0xE4]));
        assertEquals("\uFFFD", tok.decode(new int[] {cont}));
        assertEquals("x\uFFFD", tok.decode(new int[] {tok.tokenId("x"), lead}));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        // Defined behaviour: an unpaired surrogate is replaced by U+FFFD before anything else, like a lossy
        // UTF-16 -> UTF-8 conversion (JS TextEncoder, Rust String::from_utf16_lossy) does.
        String[] bad = {"a\uD800b", "\uDC00", "x\uDBFF", "\uDC00\uD800 y", "\uD83D\uD83D\uDE00"};
        String[] fixed = {"a\uFFFDb", "\uFFFD", "x\uFFFD", "\uFFFD\uFFFD y", "\uFFFD\uD83D\uDE00"};
        for (int i = 0; i < bad.length; i++) {
            assertArrayEquals(tok.encode(fixed[i]), tok.encode(bad[i]), "case " + i);
            assertEquals(fixed[i], tok.decode(tok.encode(bad[i])), "case " + i);
        }
    }

    @Test
    void decodeOfEncodeIsNfcOnRandomMixedText() {
        Random r = new Random(42);
        int[] cps = {'a', 'Z', ' ', '\n', '\r', '\t', '\'', 's', '1', '!', 0xE9, 0x301, 0x4E2D, 0x1F600, 0x200D,
            0xA0, 0x3000, 0x17F, '<', '|', '>', 0x0661, 0x2028};
        for (int t = 0; t < 2000; t++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(40);
            for (int i = 0; i < n; i++) {
                sb.appendCodePoint(cps[r.nextInt(cps.length)]);
            }
            String s = sb.toString();
            assertEquals(Normalizer.normalize(s, Normalizer.Form.NFC), tok.decode(tok.encode(s)), s);
        }
    }

    @Test
    void scannerAgreesWithTheRegexOnRandomText() {
        PreTokenizer scanner = PreTokenizer.forPattern(PreTokenizer.QWEN2_PATTERN);
        assertTrue(scanner instanceof PreTokenizer.Qwen2Scanner);
        PreTokenizer regex = new PreTokenizer.RegexSplit(PreTokenizer.QWEN2_PATTERN);
        int[] cps = {'a', 'B', ' ', ' ', '\n', '\r', '\t', 0x0B, '\'', 's', 'S', 't', 'r', 'e', 'v', 'l', 'L', 'm', 'd',
            '1', '!', '.', 0xE9, 0x301, 0x4E2D, 0x1F600, 0x1D518, 0x1D7D8, 0xA0, 0x3000, 0x2009, 0x85, 0x17F, 0xBD,
            0x2167, 0x200B, 0xFEFF, 0xFFFD};
        Random r = new Random(1);
        for (int t = 0; t < 20_000; t++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(24);
            for (int i = 0; i < n; i++) {
                sb.appendCodePoint(cps[r.nextInt(cps.length)]);
            }
            char[] a = sb.toString().toCharArray();
            assertEquals(split(regex, a), split(scanner, a), () -> "text " + Arrays.toString(sb.codePoints().toArray()));
        }
    }

    private static List<Integer> split(PreTokenizer p, char[] a) {
        List<Integer> ends = new ArrayList<>();
        int i = 0;
        while (i < a.length) {
            i = p.next(a, i, a.length);
            ends.add(i);
        }
        return ends;
    }

    @Test
    void heapMergeAgreesWithScanMerge() {
        Bpe bpe = tok.bpe();
        Scratch s = new Scratch();
        Random r = new Random(3);
        String alphabet = "aaaabbbcdeeeinnorsttt Ġ.,é中😀";
        for (int t = 0; t < 3000; t++) {
            StringBuilder sb = new StringBuilder();
            int n = 2 + r.nextInt(200);
            for (int i = 0; i < n; i++) {
                sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            byte[] w = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int[] scan = bpe.mergeByScan(w, w.length, s).clone();
            int[] heap = bpe.mergeByHeap(w, w.length, s);
            assertArrayEquals(scan, heap, sb::toString);
        }
    }

    @Test
    void parallelEncodingIsConsistent() throws Exception {
        String text = String.join("", PIECES).repeat(50);
        int[] expected = tok.encode(text);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int k = 0; k < 20; k++) {
                    if (!Arrays.equals(expected, tok.encode(text))) {
                        failures.add(new AssertionError("thread result differs"));
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }
}

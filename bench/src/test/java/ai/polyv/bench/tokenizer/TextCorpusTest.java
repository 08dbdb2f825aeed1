package ai.polyv.bench.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextCorpusTest {
    @Test
    void documentsCutAtTheFirstWhitespaceAfterTheSizeAndConcatenateBack() {
        String text = "aaaa bbbb cccccccc d";
        List<String> docs = TextCorpus.documents(text, 6);
        // "aaaa b" reaches 6 chars inside "bbbb": the cut moves to the space after it
        assertEquals(List.of("aaaa bbbb", " cccccccc", " d"), docs);
        assertEquals(text, String.join("", docs));
        assertEquals(List.of(), TextCorpus.documents("", 6));
        assertThrows(IllegalArgumentException.class, () -> TextCorpus.documents(text, 0));
    }

    @Test
    void neverSplitsASurrogatePair() {
        String text = "ab\uD83D\uDE00cd";   // U+1F600 at chars 2-3
        List<String> docs = TextCorpus.documents(text + " " + text, 3);
        assertEquals(text + " " + text, String.join("", docs));
        for (String d : docs) {
            assertFalse(Character.isLowSurrogate(d.charAt(0)), d);
            assertFalse(Character.isHighSurrogate(d.charAt(d.length() - 1)), d);
        }
    }

    @Test
    void systemTextIsDeduplicatedAndCapped() {
        TextCorpus.Corpus c = TextCorpus.systemText(50_000);
        if (c.files() == 0) {
            return;   // not a Debian-like system: nothing to check (the benchmark then needs --corpus)
        }
        assertTrue(c.utf8Bytes() >= 50_000 && c.utf8Bytes() < 50_000 + 200_000, "size " + c.utf8Bytes());
        List<String> paras = List.of(c.text().split("\n\n"));
        assertEquals(paras.size(), paras.stream().map(p -> String.join(" ", p.strip().split("\\s+"))).distinct().count());
    }
}

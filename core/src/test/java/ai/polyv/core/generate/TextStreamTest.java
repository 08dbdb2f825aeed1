package ai.polyv.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.demo.DemoCheckpoint;
import ai.polyv.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stop strings in the text stream (real Qwen tokenizer): held back while they may start, cut where they appear. */
class TextStreamTest {
    static final Tokenizer TOK = DemoCheckpoint.bundledTokenizer();

    /** Pushes the ids of {@code text} one by one; returns {streamed text, final text, index of the id that stopped or -1}. */
    static String[] run(String text, List<String> stops, List<Integer> streamedIds) {
        StringBuilder streamed = new StringBuilder();
        TextStream ts = new TextStream(TOK, true, stops, (id, piece) -> {
            streamedIds.add(id);
            streamed.append(piece);
        });
        int[] ids = TOK.encode(text);
        int stoppedAt = -1;
        for (int i = 0; i < ids.length && stoppedAt < 0; i++) if (ts.push(ids[i])) stoppedAt = i;
        String fin = ts.finish();
        return new String[] {streamed.toString(), fin, String.valueOf(stoppedAt)};
    }

    @Test
    void theTextEndsBeforeTheFirstStopString() {
        List<Integer> ids = new ArrayList<>();
        String[] r = run("Hello world.\n\nNext part, with more words.", List.of("\n\n", "more"), ids);
        assertEquals("Hello world.", r[1]);
        assertEquals(r[1], r[0], "what was streamed is the text");
        assertTrue(Integer.parseInt(r[2]) > 0, "push reported the stop");
        assertEquals(Integer.parseInt(r[2]) + 1, ids.size(), "every pushed id reached the consumer, none after the stop");
    }

    @Test
    void aPossibleStartIsHeldBackThenReleased() {
        List<Integer> ids = new ArrayList<>();
        // "world" could start "world!": it is held until "." shows otherwise; no stop happens
        String text = "Hello world. Bye.";
        String[] r = run(text, List.of("world!"), ids);
        assertEquals(text, r[1]);
        assertEquals(text, r[0]);
        assertEquals("-1", r[2]);
        assertEquals(TOK.encode(text).length, ids.size());
        // a stop string across token boundaries, and the earliest of two
        String[] r2 = run("The quick brown fox jumps over the lazy dog", List.of("lazy", "brown fox"), new ArrayList<>());
        assertEquals("The quick ", r2[1]);
        assertEquals(r2[1], r2[0]);
    }

    @Test
    void withoutStopStringsEveryPieceIsStreamedAtOnce() {
        List<String> pieces = new ArrayList<>();
        TextStream ts = new TextStream(TOK, true, (id, piece) -> pieces.add(piece));
        for (int id : TOK.encode("a b c")) assertFalse(ts.push(id));
        assertEquals("a b c", ts.finish());
        assertEquals("a b c", String.join("", pieces));
        assertEquals(TOK.encode("a b c").length, pieces.size());
    }
}

package ai.polyv.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.demo.DemoCheckpoint;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code polyv demo} end to end through the CLI entry point: synthetic picture + question, preprocess,
 * vision encoder, decoder with MoE, seeded sampling, streamed text, timings and routing.
 */
class DemoCommandTest {

    /**
     * The first 6 ids of {@code polyv demo} with its defaults (temperature 0.8, top-k 40, top-p 0.95,
     * seed 42). Obtained by running {@code ./polyv demo} once (CPU backend, 2 threads) and copying its
     * {@code ids:} line; they depend only on the seeded demo weights (DemoWeights version 1), DemoImage,
     * the bundled Qwen tokenizer and the seeded sampler, so any change there must be deliberate.
     */
    static final int[] EXPECTED = {16935, 54873, 113106, 80741, 93293, 97084};

    /** A bad --image fails in one line before the checkpoint is written. */
    @Test
    void imageThatIsNoFileFailsBeforeAnythingIsWritten(@TempDir Path tmp) {
        Path cache = tmp.resolve("cache");
        CliRun r = CliRun.run("demo", "--cache", cache.toString(), "--image", "/dev/null");
        assertEquals(2, r.status(), r.err());
        assertArrayEquals(new String[] {"polyv demo: image file /dev/null is not a regular file"}, r.errLines());
        assertFalse(Files.exists(cache), "no checkpoint written");
    }

    @Test
    void demoRunsTheWholePipelineDeterministically() {
        String dir = DemoFixture.checkpoint().toString();
        CliRun r = CliRun.run("demo", "--cache", dir, "--max-new-tokens", "6");
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("demo checkpoint: " + dir + " (cached"), "the fixture already created it: " + out);
        assertTrue(out.contains("ids: " + Arrays.toString(EXPECTED) + "\n"), out);
        // the streamed answer is the tokenizer's text of those ids
        Tokenizer tok = DemoCheckpoint.bundledTokenizer();
        String answer = out.substring(out.indexOf("assistant: ") + "assistant: ".length(), out.indexOf("\nids: "));
        assertEquals(tok.decode(EXPECTED, true), answer);
        // prompt: system turn 11 tokens, "<|im_start|>user\n" 3, vision_start + 9*12 = 108 placeholders (grid 1x18x24) + vision_end,
        // "Describe this image." 4, "<|im_end|>\n" 2, "<|im_start|>assistant\n" 3: 133 tokens
        assertTrue(out.contains("prompt: 133 tokens, vision grids 1x18x24"), out);
        assertTrue(out.contains("decode: 6 tokens generated, 5 decode steps"), out);
        assertTrue(out.contains("stop: max new tokens (6)"), out);
        // routing table: both MoE layers, image rows count the 108 placeholders
        assertTrue(out.contains("routing: share of the top-2 expert assignments per MoE layer (uniform = 25.0%)"), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+image\\s+108\\s+.*")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+1\\s+all\\s+138\\s+.*")), "133 prompt + 5 fed-back tokens in layer 1: " + out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+3\\s+all\\s+138\\s+.*")), out);
    }
}

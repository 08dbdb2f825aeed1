package ai.polyv.core.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.model.VisionInput;
import ai.polyv.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Multi-turn chat prompts: earlier exchanges are rendered with the Qwen2.5-VL template, the visuals open the first user message. */
class ConversationTest {
    private static PolyV polyv;

    @BeforeAll
    static void load() {
        polyv = PolyV.load(DemoFixture.checkpoint(), new CpuBackend(2));
    }

    @AfterAll
    static void close() {
        polyv.close();
    }

    private static int[] ids(GenerationRequest r) {
        List<VisionInput> inputs = new ArrayList<>();
        for (Visual v : r.visuals()) inputs.add(polyv.preprocess(v, r.pixels()));
        return polyv.promptIds(r, inputs);
    }

    @Test
    void historyIsRenderedTurnByTurnWithTheTemplate() {
        Tokenizer tok = polyv.tokenizer().orElseThrow();
        GenerationRequest r = GenerationRequest.builder("And its colour?").system("Be brief.").exchange("What is it?", "A square.")
                .exchange("How big?", "Small.").build();
        String expected = "<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nWhat is it?<|im_end|>\n<|im_start|>assistant\nA square.<|im_end|>\n"
                + "<|im_start|>user\nHow big?<|im_end|>\n<|im_start|>assistant\nSmall.<|im_end|>\n"
                + "<|im_start|>user\nAnd its colour?<|im_end|>\n<|im_start|>assistant\n";
        assertArrayEquals(tok.encode(expected), ids(r));
    }

    @Test
    void visualsOpenTheFirstUserMessage() {
        Tokenizer tok = polyv.tokenizer().orElseThrow();
        GenerationRequest r = GenerationRequest.builder("Why?").visual(new Visual.Image(DemoImage.create(56, 56)))
                .exchange("What is it?", "A square.").build();
        // a 56x56 image is a 4x4 patch grid, 2x2 merge: 4 placeholders
        String pads = "<|image_pad|>".repeat(4);
        String expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n<|vision_start|>" + pads + "<|vision_end|>What is it?<|im_end|>\n<|im_start|>assistant\nA square.<|im_end|>\n"
                + "<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(expected, tok.decode(ids(r), false));
        // and it still generates (the placeholders line up with the vision encoder's rows)
        assertEquals(3, polyv.generate(GenerationRequest.builder("Why?").visual(new Visual.Image(DemoImage.create(56, 56)))
                .exchange("What is it?", "A square.").maxNewTokens(3).noDefaultStopTokens().build()).ids().length);
    }

    @Test
    void aStopStringEndsGenerationAndIsLeftOut() {
        GenerationRequest plain = GenerationRequest.builder("Describe this image.").visual(new Visual.Image(DemoImage.create(56, 56)))
                .maxNewTokens(16).noDefaultStopTokens().build();
        String full = polyv.generate(plain).text();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        GenerationRequest withStop = GenerationRequest.builder("Describe this image.").visual(new Visual.Image(DemoImage.create(56, 56)))
                .maxNewTokens(16).noDefaultStopTokens().stopString(stop).build();
        StringBuilder streamed = new StringBuilder();
        var r = polyv.generate(withStop, (id, text) -> streamed.append(text));
        assertEquals(full.substring(0, full.indexOf(stop)), r.text(), "stop '" + stop + "' in '" + full + "'");
        assertEquals(r.text(), streamed.toString());
        assertEquals(ai.polyv.core.generate.Generator.StopReason.STOP_STRING, r.stopReason());
        assertTrue(r.ids().length < 16);
        var empty = assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder("x").stopString("").build());
        assertEquals("a stop string must not be empty", empty.getMessage());
    }

    @Test
    void historyNeedsAChatPrompt() {
        var e = assertThrows(IllegalStateException.class, () -> GenerationRequest.builderOfIds(1, 2).exchange("a", "b"));
        assertEquals("a conversation history needs a chat prompt, not raw ids", e.getMessage());
    }
}

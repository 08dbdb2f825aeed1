package ai.polyv.core.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.TokenConsumer;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.model.VisionInput;
import ai.polyv.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Multi-turn chat prompts: earlier exchanges are rendered with the Qwen2.5-VL template, each user message opening with the
 * pictures sent in that turn; a later turn's picture through the prefix cache gives what a fresh prefill gives.
 */
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
    void anExchangesVisualsOpenItsUserMessage() {
        Tokenizer tok = polyv.tokenizer().orElseThrow();
        GenerationRequest r = GenerationRequest.builder("Why?").exchange("What is it?", List.of(new Visual.Image(DemoImage.create(56, 56))), "A square.")
                .build();
        // a 56x56 image is a 4x4 patch grid, 2x2 merge: 4 placeholders
        String pads = "<|image_pad|>".repeat(4);
        String expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n<|vision_start|>" + pads + "<|vision_end|>What is it?<|im_end|>\n<|im_start|>assistant\nA square.<|im_end|>\n"
                + "<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n";
        assertEquals(expected, tok.decode(ids(r), false));
        // and it still generates (the placeholders line up with the vision encoder's rows)
        assertEquals(3, polyv.generate(GenerationRequest.builder("Why?").exchange("What is it?", List.of(new Visual.Image(DemoImage.create(56, 56))),
                "A square.").maxNewTokens(3).noDefaultStopTokens().build()).ids().length);
        // the command line's and batch files' placement: the visuals given beside a history open its first user message
        GenerationRequest.Chat chat = new GenerationRequest.Chat("Why?", null, List.of(new GenerationRequest.Exchange("What is it?", "A square.")));
        GenerationRequest legacy = GenerationRequest.builder(chat.visualsInFirstTurn(1)).visual(new Visual.Image(DemoImage.create(56, 56))).build();
        assertEquals(expected, tok.decode(ids(legacy), false));
    }

    /** Turn 1 sends a 56x56 picture (4 placeholders), turn 2 a 56x84 one (6): each sits in its own user message. */
    static GenerationRequest.Builder picturesInTwoTurns(String answer) {
        return GenerationRequest.builder("And this one?").exchange("What is it?", List.of(new Visual.Image(DemoImage.create(56, 56))), answer)
                .visual(new Visual.Image(DemoImage.create(56, 84))).maxNewTokens(4).greedy().noDefaultStopTokens();
    }

    @Test
    void picturesInTwoTurnsAreEncodedAsTheRenderedTemplate() {
        Tokenizer tok = polyv.tokenizer().orElseThrow();
        GenerationRequest r = picturesInTwoTurns("A square.").build();
        // what HF's apply_chat_template writes for [user: [image, text], assistant, user: [image, text]], placeholders expanded
        String expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n<|vision_start|>" + "<|image_pad|>".repeat(4) + "<|vision_end|>What is it?<|im_end|>\n"
                + "<|im_start|>assistant\nA square.<|im_end|>\n"
                + "<|im_start|>user\n<|vision_start|>" + "<|image_pad|>".repeat(6) + "<|vision_end|>And this one?<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertArrayEquals(tok.encode(expected), ids(r));
        // three turns, the picture in the middle one
        GenerationRequest mid = GenerationRequest.builder("Thanks.").exchange("Hi.", "Hello.")
                .exchange("Look.", List.of(new Visual.Image(DemoImage.create(56, 56))), "A square.").build();
        String expectedMid = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHi.<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\n<|vision_start|>" + "<|image_pad|>".repeat(4) + "<|vision_end|>Look.<|im_end|>\n"
                + "<|im_start|>assistant\nA square.<|im_end|>\n<|im_start|>user\nThanks.<|im_end|>\n<|im_start|>assistant\n";
        assertArrayEquals(tok.encode(expectedMid), ids(mid));
        // the visuals are in prompt order: an exchange's pictures before the new message's
        var order = assertThrows(IllegalStateException.class, () -> GenerationRequest.builder("x").image(java.nio.file.Path.of("a.png"))
                .exchange("y", List.of(new Visual.Image(DemoImage.create(56, 56))), "z"));
        assertTrue(order.getMessage().contains("give the earlier exchanges first"), order.getMessage());
        var claimed = assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder(new GenerationRequest.Chat("x", null,
                List.of(new GenerationRequest.Exchange("y", "z", 2)))).build());
        assertEquals("the earlier exchanges open with 2 visuals but the request has 0", claimed.getMessage());
    }

    /**
     * The second turn of a chat that sends a second picture, through a service with a prefix cache: it reuses the first
     * turn's rows (its picture included) and gets the ids of a fresh prefill of the same prompt.
     */
    @Test
    void aLaterTurnsPictureOnTheReusedPrefixGivesTheFreshPrefillsIds() throws Exception {
        Tokenizer tok = polyv.tokenizer().orElseThrow();
        GenerationRequest first = GenerationRequest.builder("What is it?").visual(new Visual.Image(DemoImage.create(56, 56))).maxNewTokens(4)
                .greedy().noDefaultStopTokens().build();
        int[] firstPrompt = ids(first);
        try (GenerationService service = new GenerationService(polyv, new GenerationService.Options(2, 4, 0))) {
            GenerationResult one = service.submit(first, TokenConsumer.NONE).get(60, TimeUnit.SECONDS);
            assertArrayEquals(polyv.generate(first).ids(), one.ids());
            GenerationRequest second = picturesInTwoTurns(tok.decode(one.ids(), false)).build();
            GenerationResult fresh = polyv.generate(second);                          // alone, no cache
            GenerationResult reused = service.submit(second, TokenConsumer.NONE).get(60, TimeUnit.SECONDS);
            assertArrayEquals(fresh.ids(), reused.ids(), "turn 2 on the reused prefix");
            assertArrayEquals(fresh.promptIds(), reused.promptIds());
            int visionEnd = tok.tokenId("<|vision_end|>"), afterFirstPicture = 0;
            while (firstPrompt[afterFirstPicture] != visionEnd) afterFirstPicture++;
            long rows = service.stats().reusedPromptTokens();
            assertTrue(rows > afterFirstPicture && rows < reused.promptIds().length, "the first turn with its picture is reused: " + rows);
            assertTrue(reused.timings().visionNanos() > 0, "the new picture is encoded");
        }
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

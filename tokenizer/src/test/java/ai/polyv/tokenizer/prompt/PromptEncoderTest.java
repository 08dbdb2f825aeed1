package ai.polyv.tokenizer.prompt;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.tokenizer.Tokenizer;
import ai.polyv.tokenizer.prompt.ChatPrompt.Image;
import ai.polyv.tokenizer.prompt.ChatPrompt.Synergy;
import ai.polyv.tokenizer.prompt.ChatPrompt.Text;
import ai.polyv.tokenizer.prompt.ChatPrompt.Video;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PromptEncoderTest {

    private static Tokenizer qwen;
    private static PromptEncoder enc;

    // Qwen2 / Qwen2.5-VL ids (tokenizer.json of the real Qwen tokenizer)
    private static final int IM_START = 151644, IM_END = 151645, VISION_START = 151652, VISION_END = 151653;
    private static final int IMAGE_PAD = 151655, VIDEO_PAD = 151656, NL = 198, SYSTEM = 8948, USER = 872, ASSISTANT = 77091;
    /** "You are a helpful assistant." */
    private static final int[] DEFAULT_SYSTEM = {2610, 525, 264, 10950, 17847, 13};

    @BeforeAll
    static void load() {
        qwen = Tokenizer.load(SharedData.qwenTokenizer().resolve("tokenizer.json"));
        enc = new PromptEncoder(qwen, ChatTokens.of(qwen), 2);
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    private static int[] repeat(int id, int n) {
        int[] a = new int[n];
        Arrays.fill(a, id);
        return a;
    }

    @Test
    void textPromptHasQwenIdsAndMatchesTheTemplateString() {
        ChatPrompt p = ChatPrompt.user(new Text("Hello"));
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
                enc.render(p));
        int hello = qwen.tokenId("Hello");
        int[] expected = concat(new int[] {IM_START, SYSTEM, NL}, DEFAULT_SYSTEM, new int[] {IM_END, NL, IM_START, USER, NL, hello, IM_END, NL,
                IM_START, ASSISTANT, NL});
        assertArrayEquals(expected, enc.encode(p));
        assertArrayEquals(qwen.encode(enc.render(p)), enc.encode(p));
    }

    @Test
    void imagePlaceholdersFollowTheGrid() {
        // grid 1 x 14 x 18 (196x252 pixels): 1 * (14/2) * (18/2) = 63 merged tokens
        ChatPrompt p = ChatPrompt.user(new Image(1, 14, 18), new Text("Describe this image."));
        int[] ids = enc.encode(p);
        int[] expected = concat(new int[] {IM_START, SYSTEM, NL}, DEFAULT_SYSTEM, new int[] {IM_END, NL, IM_START, USER, NL, VISION_START},
                repeat(IMAGE_PAD, 63), new int[] {VISION_END}, qwen.encode("Describe this image."), new int[] {IM_END, NL, IM_START, ASSISTANT, NL});
        assertArrayEquals(expected, ids);
        assertEquals(63, Arrays.stream(ids).filter(i -> i == IMAGE_PAD).count());
        assertArrayEquals(qwen.encode(enc.render(p)), ids);
    }

    @Test
    void videoAndMultiTurnMatchTheTemplateString() {
        // video grid 4 x 8 x 10: 4 * 4 * 5 = 80; image 1 x 6 x 8: 12
        ChatPrompt p = ChatPrompt.builder()
                .system("Be brief.")
                .user(new Video(4, 8, 10), new Text("\n\nWhat happens?  "))
                .assistant("A cat jumps.")
                .user(new Image(1, 6, 8), new Text("And here? 中文 😀"))
                .build();
        int[] ids = enc.encode(p);
        assertEquals(80, Arrays.stream(ids).filter(i -> i == VIDEO_PAD).count());
        assertEquals(12, Arrays.stream(ids).filter(i -> i == IMAGE_PAD).count());
        assertTrue(enc.render(p).startsWith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<|vision_start|><|video_pad|>"));
        assertTrue(enc.render(p).contains("<|im_start|>assistant\nA cat jumps.<|im_end|>\n"));
        assertArrayEquals(qwen.encode(enc.render(p)), ids);
        // 5 turn starts (system, user, assistant, user, generation prompt), 4 ends
        assertEquals(5, Arrays.stream(ids).filter(i -> i == IM_START).count());
        assertEquals(4, Arrays.stream(ids).filter(i -> i == IM_END).count());
    }

    @Test
    void withoutDefaultSystemAndGenerationPrompt() {
        ChatPrompt p = ChatPrompt.builder().noDefaultSystem().addGenerationPrompt(false).user("Hi").build();
        assertArrayEquals(new int[] {IM_START, USER, NL, qwen.tokenId("Hi"), IM_END, NL}, enc.encode(p));
    }

    @Test
    void synergyTokensAreARunOfTheModelsId() {
        // the demo model's synergy id is a padded id beyond the tokenizer's vocabulary
        int synergy = 151679;
        PromptEncoder e = new PromptEncoder(qwen, ChatTokens.of(qwen).withModelIds(VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD, synergy), 2);
        ChatPrompt p = ChatPrompt.builder().noDefaultSystem().user(new Image(1, 4, 4), new Synergy(3), new Text("Hi")).build();
        int[] expected = {IM_START, USER, NL, VISION_START, IMAGE_PAD, IMAGE_PAD, IMAGE_PAD, IMAGE_PAD, VISION_END,
                synergy, synergy, synergy, qwen.tokenId("Hi"), IM_END, NL, IM_START, ASSISTANT, NL};
        assertArrayEquals(expected, e.encode(p));
        var ex = assertThrows(IllegalArgumentException.class, () -> e.render(p));
        assertTrue(ex.getMessage().contains("151679"), ex.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> enc.encode(p));
        assertTrue(none.getMessage().contains("synergy"), none.getMessage());
    }

    @Test
    void gridsMustDivideByTheMergeSize() {
        var e = assertThrows(IllegalArgumentException.class, () -> enc.encode(ChatPrompt.user(new Image(1, 5, 4))));
        assertTrue(e.getMessage().contains("1x5x4"), e.getMessage());
        assertEquals(2 * 3 * 4, ChatPrompt.mergedTokens(2, 6, 8, 2));
    }
}

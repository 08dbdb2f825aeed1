package ai.polyv.tokenizer.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A conversation in the Qwen2.5-VL chat format, before tokenization ({@link PromptEncoder} turns it
 * into ids). Rendered as text it is exactly what Qwen2.5-VL's {@code chat_template} produces, with each
 * vision placeholder already expanded the way the Qwen2.5-VL processor expands it:
 * <pre>
 * &lt;|im_start|&gt;system\nYou are a helpful assistant.&lt;|im_end|&gt;\n     (inserted when the first turn is not a system turn)
 * &lt;|im_start|&gt;user\n&lt;|vision_start|&gt;&lt;|image_pad|&gt; x N&lt;|vision_end|&gt;Describe it.&lt;|im_end|&gt;\n
 * &lt;|im_start|&gt;assistant\n                                                 (add_generation_prompt)
 * </pre>
 * where N = t * (h / merge) * (w / merge) for a patch grid (t, h, w). A {@link Synergy} part is a run
 * of {@code count} synergy token ids (PolyV's latent tokens; no text form in the Qwen vocabulary).
 *
 * @param messages            the turns in order
 * @param addGenerationPrompt append {@code <|im_start|>assistant\n} so the model answers next
 */
public record ChatPrompt(List<Message> messages, boolean addGenerationPrompt) {

    /** Qwen2.5-VL's default system prompt. */
    public static final String DEFAULT_SYSTEM = "You are a helpful assistant.";

    public enum Role {
        SYSTEM, USER, ASSISTANT;

        /** The name written after {@code <|im_start|>}. */
        public String text() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One piece of a turn's content. */
    public sealed interface Part permits Text, Image, Video, Synergy {}

    /** Plain text; goes through the tokenizer (added tokens written in it are matched, as in HF). */
    public record Text(String text) implements Part {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** An image with patch grid (t, h, w) (t = 1 for a still image). */
    public record Image(int t, int h, int w) implements Part {
        public Image {
            checkGrid("image", t, h, w);
        }
    }

    /** A video (or multi-view scene) with patch grid (t, h, w). */
    public record Video(int t, int h, int w) implements Part {
        public Video {
            checkGrid("video", t, h, w);
        }
    }

    /** A run of {@code count} synergy tokens. */
    public record Synergy(int count) implements Part {
        public Synergy {
            if (count <= 0) throw new IllegalArgumentException("synergy token count must be positive, got " + count);
        }
    }

    /** One turn. */
    public record Message(Role role, List<Part> parts) {
        public Message {
            Objects.requireNonNull(role, "role");
            parts = List.copyOf(parts);
        }
    }

    public ChatPrompt {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) throw new IllegalArgumentException("a chat prompt needs at least one message");
    }

    private static void checkGrid(String kind, int t, int h, int w) {
        if (t <= 0 || h <= 0 || w <= 0) throw new IllegalArgumentException(kind + " grid must be positive, got " + t + "x" + h + "x" + w);
    }

    /** Merged tokens of a patch grid: {@code t * (h / merge) * (w / merge)}; h and w must be multiples of merge. */
    public static int mergedTokens(int t, int h, int w, int merge) {
        if (merge <= 0 || h % merge != 0 || w % merge != 0) {
            throw new IllegalArgumentException("grid " + t + "x" + h + "x" + w + " is not divisible by the merge size " + merge);
        }
        return Math.multiplyExact(Math.multiplyExact(t, h / merge), w / merge);
    }

    /** The common case: default system turn, one user turn of {@code parts}, generation prompt. */
    public static ChatPrompt user(Part... parts) {
        return builder().user(parts).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a conversation turn by turn; the default system turn is added unless the first turn is a system turn or it is disabled. */
    public static final class Builder {
        private final List<Message> messages = new ArrayList<>();
        private boolean defaultSystem = true;
        private boolean generationPrompt = true;

        private Builder() {}

        public Builder system(String text) {
            return add(Role.SYSTEM, List.of(new Text(text)));
        }

        public Builder user(String text) {
            return add(Role.USER, List.of(new Text(text)));
        }

        public Builder user(Part... parts) {
            return add(Role.USER, List.of(parts));
        }

        public Builder user(List<Part> parts) {
            return add(Role.USER, parts);
        }

        public Builder assistant(String text) {
            return add(Role.ASSISTANT, List.of(new Text(text)));
        }

        public Builder add(Role role, List<Part> parts) {
            messages.add(new Message(role, parts));
            return this;
        }

        /** Do not insert {@link #DEFAULT_SYSTEM} before a first non-system turn. */
        public Builder noDefaultSystem() {
            defaultSystem = false;
            return this;
        }

        /** Whether to append {@code <|im_start|>assistant\n} (default true). */
        public Builder addGenerationPrompt(boolean on) {
            generationPrompt = on;
            return this;
        }

        public ChatPrompt build() {
            List<Message> all = new ArrayList<>();
            if (defaultSystem && (messages.isEmpty() || messages.getFirst().role() != Role.SYSTEM)) {
                all.add(new Message(Role.SYSTEM, List.of(new Text(DEFAULT_SYSTEM))));
            }
            all.addAll(messages);
            return new ChatPrompt(all, generationPrompt);
        }
    }
}

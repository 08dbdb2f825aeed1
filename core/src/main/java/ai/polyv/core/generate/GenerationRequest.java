package ai.polyv.core.generate;

import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.core.sampling.SamplingOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What to generate from.
 *
 * @param prompt            chat text (through the Qwen2.5-VL chat template) or raw prompt ids
 * @param visuals           images, videos and scenes in prompt order (for a chat: the earlier exchanges' in turn order, see
 *                          {@link Exchange#visuals()}, then the new user message's)
 * @param synergyTokens     chat prompts only: this many {@code <synergy>} tokens in the conversation's first user message,
 *                          after its visuals, before its text
 * @param maxNewTokens      budget of generated tokens (at least 1)
 * @param sampling          greedy or seeded temperature/top-k/top-p sampling
 * @param stopTokens        extra ids that end generation
 * @param stopStrings       texts that end generation as soon as the streamed text contains one (it is not streamed
 *                          and not in the result's text); needs a tokenizer
 * @param defaultStopTokens also stop at the config's eos ids and the tokenizer's {@code <|im_end|>} and
 *                          {@code <|endoftext|>}
 * @param skipSpecialTokens leave special tokens out of the streamed text (their ids are still reported)
 * @param pixels            pixel budget for resizing images and video frames
 */
public record GenerationRequest(Prompt prompt, List<Visual> visuals, int synergyTokens, int maxNewTokens,
                                SamplingOptions sampling, Set<Integer> stopTokens, List<String> stopStrings, boolean defaultStopTokens,
                                boolean skipSpecialTokens, VisionPreprocessor.Options pixels) {

    public static final int DEFAULT_MAX_NEW_TOKENS = 128;

    /** The prompt: chat text or raw ids. */
    public sealed interface Prompt permits Chat, Ids {}

    /**
     * A user message through the chat template, after the earlier exchanges of the conversation.
     *
     * @param text    the new user message
     * @param system  the system turn, or null for Qwen2.5-VL's default ("You are a helpful assistant.")
     * @param history earlier exchanges, oldest first; each user message opens with its own visuals ({@link Exchange#visuals()}
     *                of the request's visuals, in order), and the new message {@code text} with the visuals left after them
     */
    public record Chat(String text, String system, List<Exchange> history) implements Prompt {
        public Chat {
            Objects.requireNonNull(text, "text");
            history = List.copyOf(history);
        }

        /** A conversation of one user message. */
        public Chat(String text, String system) {
            this(text, system, List.of());
        }

        /**
         * This conversation with {@code count} visuals opening its first user message (the first exchange's, or
         * {@code text} without history): the command line's and batch files' placement, where the visuals given beside
         * a history belong to the turn that sent them and the user then asked follow-up questions about.
         */
        public Chat visualsInFirstTurn(int count) {
            if (history.isEmpty()) return this;
            List<Exchange> h = new ArrayList<>(history);
            Exchange e = h.getFirst();
            h.set(0, new Exchange(e.user(), e.assistant(), count));
            return new Chat(text, system, h);
        }
    }

    /**
     * One earlier exchange of a conversation: what the user said and what the model answered.
     *
     * @param visuals how many of the request's visuals (the next ones in order) open this user message, as
     *                {@code <|vision_start|><|image_pad|>...<|vision_end|>} before its text (the Qwen2.5-VL chat template
     *                puts a picture in the user message that sent it)
     */
    public record Exchange(String user, String assistant, int visuals) {
        public Exchange {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(assistant, "assistant");
            if (visuals < 0) throw new IllegalArgumentException("an exchange's visuals must be >= 0, got " + visuals);
        }

        /** An exchange of text only. */
        public Exchange(String user, String assistant) {
            this(user, assistant, 0);
        }
    }

    /**
     * Prompt ids used as they are (no template); vision placeholders must already be expanded to one id
     * per merged token, matching {@link GenerationRequest#visuals()} in order. For models without a tokenizer.
     */
    public record Ids(int[] ids) implements Prompt {
        public Ids {
            ids = ids.clone();
            if (ids.length == 0) throw new IllegalArgumentException("empty prompt ids");
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }
    }

    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        visuals = List.copyOf(visuals);
        Objects.requireNonNull(sampling, "sampling");
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = List.copyOf(stopStrings);
        for (String t : stopStrings) if (t.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        Objects.requireNonNull(pixels, "pixels");
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        if (synergyTokens < 0) throw new IllegalArgumentException("synergy tokens must be >= 0, got " + synergyTokens);
        if (synergyTokens > 0 && prompt instanceof Ids) {
            throw new IllegalArgumentException("synergy tokens are added by the chat template; with raw prompt ids put them in the ids");
        }
        if (prompt instanceof Chat c) {
            int claimed = c.history().stream().mapToInt(Exchange::visuals).sum();
            if (claimed > visuals.size()) {
                throw new IllegalArgumentException("the earlier exchanges open with " + claimed + " visuals but the request has " + visuals.size());
            }
        }
    }

    /** A chat prompt with default options. */
    public static GenerationRequest of(String text) {
        return builder(text).build();
    }

    /** Raw prompt ids with default options. */
    public static GenerationRequest ofIds(int... ids) {
        return builderOfIds(ids).build();
    }

    public static Builder builder(String text) {
        return new Builder(new Chat(text, null));
    }

    public static Builder builderOfIds(int... ids) {
        return new Builder(new Ids(ids));
    }

    /** A builder for either kind of prompt. */
    public static Builder builder(Prompt prompt) {
        return new Builder(Objects.requireNonNull(prompt, "prompt"));
    }

    public static final class Builder {
        private Prompt prompt;
        private final List<Visual> visuals = new ArrayList<>();
        private int synergyTokens;
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private SamplingOptions sampling = SamplingOptions.GREEDY;
        private final Set<Integer> stops = new TreeSet<>();
        private final List<String> stopStrings = new ArrayList<>();
        private boolean defaultStops = true;
        private boolean skipSpecial = true;
        private VisionPreprocessor.Options pixels = VisionPreprocessor.Options.DEFAULT;

        private Builder(Prompt prompt) {
            this.prompt = prompt;
        }

        /** The system turn (chat prompts only). */
        public Builder system(String system) {
            if (!(prompt instanceof Chat c)) throw new IllegalStateException("a system turn needs a chat prompt, not raw ids");
            prompt = new Chat(c.text(), system, c.history());
            return this;
        }

        /** Appends an earlier exchange of text to the conversation (chat prompts only; oldest first). */
        public Builder exchange(String user, String assistant) {
            return exchange(user, List.of(), assistant);
        }

        /**
         * Appends an earlier exchange to the conversation (chat prompts only; oldest first) whose user message opens with
         * {@code visuals} (a picture sent in that turn). Give the exchanges before the new message's own visuals
         * ({@link #image}, {@link #visual}), which follow them in prompt order.
         */
        public Builder exchange(String user, List<? extends Visual> visuals, String assistant) {
            if (!(prompt instanceof Chat c)) throw new IllegalStateException("a conversation history needs a chat prompt, not raw ids");
            int claimed = c.history().stream().mapToInt(Exchange::visuals).sum();
            if (!visuals.isEmpty() && this.visuals.size() > claimed) {
                throw new IllegalStateException("an exchange with visuals after " + (this.visuals.size() - claimed)
                        + " visuals of the new message: give the earlier exchanges first (visuals are in prompt order)");
            }
            List<Exchange> h = new ArrayList<>(c.history());
            h.add(new Exchange(user, assistant, visuals.size()));
            visuals.forEach(v -> this.visuals.add(Objects.requireNonNull(v, "visual")));
            prompt = new Chat(c.text(), c.system(), h);
            return this;
        }

        public Builder image(Path file) {
            return visual(new Visual.ImageFile(file));
        }

        public Builder video(Path frameDir, double fps) {
            return visual(new Visual.VideoDirectory(frameDir, fps, fps));
        }

        public Builder scene(Path scanNetDir, int views) {
            return visual(new Visual.SceneDirectory(scanNetDir, views));
        }

        /** A visual of the new user message (after those of the earlier exchanges). */
        public Builder visual(Visual v) {
            visuals.add(Objects.requireNonNull(v, "visual"));
            return this;
        }

        public Builder synergyTokens(int n) {
            synergyTokens = n;
            return this;
        }

        public Builder maxNewTokens(int n) {
            maxNewTokens = n;
            return this;
        }

        public Builder sampling(SamplingOptions s) {
            sampling = s;
            return this;
        }

        public Builder greedy() {
            return sampling(SamplingOptions.GREEDY);
        }

        public Builder sample(double temperature, int topK, double topP, long seed) {
            return sampling(new SamplingOptions(temperature, topK, topP, seed));
        }

        public Builder stopToken(int id) {
            stops.add(id);
            return this;
        }

        /** Ends generation when the text contains {@code text} (which is left out of the text). */
        public Builder stopString(String text) {
            stopStrings.add(Objects.requireNonNull(text, "stop string"));
            return this;
        }

        /** Stop only at the ids given with {@link #stopToken}, not at eos / {@code <|im_end|>}. */
        public Builder noDefaultStopTokens() {
            defaultStops = false;
            return this;
        }

        public Builder skipSpecialTokens(boolean skip) {
            skipSpecial = skip;
            return this;
        }

        public Builder pixels(int minPixels, int maxPixels) {
            pixels = new VisionPreprocessor.Options(minPixels, maxPixels);
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, visuals, synergyTokens, maxNewTokens, sampling, stops, stopStrings, defaultStops, skipSpecial,
                    pixels);
        }
    }
}

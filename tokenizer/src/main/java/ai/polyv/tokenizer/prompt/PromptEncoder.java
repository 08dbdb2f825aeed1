package ai.polyv.tokenizer.prompt;

import ai.polyv.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Turns a {@link ChatPrompt} into token ids. Special tokens (turn markers, vision markers, placeholders,
 * synergy tokens) are appended by id, so a placeholder never goes through BPE; the text between two
 * special tokens (role name, newline, content) is collected into one string and encoded by the
 * {@link Tokenizer} in one call. Since the tokenizer itself splits its input at added tokens and encodes
 * each piece between them on its own, {@link #encode} equals {@code tokenizer.encode(render(prompt))}
 * whenever every special id has a string in the tokenizer (tested); the synergy id of the demo model
 * has none, which is why ids are built directly.
 */
public final class PromptEncoder {

    private final Tokenizer tokenizer;
    private final ChatTokens ids;
    private final int mergeSize;

    /**
     * @param mergeSize the vision merger's spatial merge size (2 for Qwen2.5-VL): placeholders per
     *                  image = t * (h / merge) * (w / merge)
     */
    public PromptEncoder(Tokenizer tokenizer, ChatTokens ids, int mergeSize) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.ids = Objects.requireNonNull(ids, "ids");
        if (mergeSize <= 0) throw new IllegalArgumentException("merge size must be positive, got " + mergeSize);
        this.mergeSize = mergeSize;
    }

    public ChatTokens tokens() {
        return ids;
    }

    /** The prompt's ids {@code [promptTokens]}. */
    public int[] encode(ChatPrompt prompt) {
        IdSink sink = new IdSink();
        emit(prompt, sink);
        return sink.finish();
    }

    /**
     * The prompt as template text (placeholders expanded), as HF's {@code apply_chat_template} followed by
     * the processor's placeholder expansion would produce it.
     *
     * @throws IllegalArgumentException if a special id (e.g. a synergy id beyond the tokenizer's
     *                                  vocabulary) has no string in the tokenizer
     */
    public String render(ChatPrompt prompt) {
        TextSink sink = new TextSink();
        emit(prompt, sink);
        return sink.sb.toString();
    }

    private interface Sink {
        void special(int id, int times);

        void text(String s);
    }

    private void emit(ChatPrompt prompt, Sink out) {
        for (ChatPrompt.Message m : prompt.messages()) {
            out.special(ids.imStart(), 1);
            out.text(m.role().text() + "\n");
            for (ChatPrompt.Part p : m.parts()) {
                switch (p) {
                    case ChatPrompt.Text t -> out.text(t.text());
                    case ChatPrompt.Image g -> vision(out, ids.imagePad(), ChatPrompt.mergedTokens(g.t(), g.h(), g.w(), mergeSize));
                    case ChatPrompt.Video g -> vision(out, ids.videoPad(), ChatPrompt.mergedTokens(g.t(), g.h(), g.w(), mergeSize));
                    case ChatPrompt.Synergy s -> {
                        if (ids.synergy() == ChatTokens.NONE) {
                            throw new IllegalArgumentException("the prompt has synergy tokens but the model defines no synergy.token_id");
                        }
                        out.special(ids.synergy(), s.count());
                    }
                }
            }
            out.special(ids.imEnd(), 1);
            out.text("\n");
        }
        if (prompt.addGenerationPrompt()) {
            out.special(ids.imStart(), 1);
            out.text(ChatPrompt.Role.ASSISTANT.text() + "\n");
        }
    }

    private void vision(Sink out, int pad, int count) {
        out.special(ids.visionStart(), 1);
        out.special(pad, count);
        out.special(ids.visionEnd(), 1);
    }

    /** Ids: text is buffered until the next special token, then encoded in one piece. */
    private final class IdSink implements Sink {
        private int[] buf = new int[256];
        private int n;
        private final StringBuilder pending = new StringBuilder();

        @Override
        public void special(int id, int times) {
            flushText();
            ensure(times);
            Arrays.fill(buf, n, n + times, id);
            n += times;
        }

        @Override
        public void text(String s) {
            pending.append(s);
        }

        private void flushText() {
            if (pending.isEmpty()) return;
            int[] t = tokenizer.encode(pending.toString());
            pending.setLength(0);
            ensure(t.length);
            System.arraycopy(t, 0, buf, n, t.length);
            n += t.length;
        }

        private void ensure(int more) {
            if (n + more > buf.length) buf = Arrays.copyOf(buf, Math.max(2 * buf.length, n + more));
        }

        int[] finish() {
            flushText();
            return Arrays.copyOf(buf, n);
        }
    }

    private final class TextSink implements Sink {
        final StringBuilder sb = new StringBuilder();

        @Override
        public void special(int id, int times) {
            if (!tokenizer.hasId(id)) {
                throw new IllegalArgumentException("token id " + id + " has no text form in tokenizer " + tokenizer.source()
                        + " (vocab size " + tokenizer.vocabSize() + "), so the prompt cannot be rendered as text");
            }
            String s = tokenizer.tokenString(id);
            for (int i = 0; i < times; i++) sb.append(s);
        }

        @Override
        public void text(String s) {
            sb.append(s);
        }
    }
}

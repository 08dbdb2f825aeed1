package ai.polyv.core;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.Position3dConfig;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.generate.BatchTokenConsumer;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Generator;
import ai.polyv.core.generate.TextStream;
import ai.polyv.core.generate.TokenConsumer;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.preprocess.VideoFrames;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.core.sampling.StopTokens;
import ai.polyv.core.scene.MultiViewScene;
import ai.polyv.core.scene.ScanNetScene;
import ai.polyv.tokenizer.Tokenizer;
import ai.polyv.tokenizer.prompt.ChatPrompt;
import ai.polyv.tokenizer.prompt.ChatTokens;
import ai.polyv.tokenizer.prompt.PromptEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * PolyV for embedding: a loaded model, its backend and its tokenizer, and one call that runs a request
 * through the whole pipeline (read and preprocess visuals, chat template, vision encoder, decoder with
 * MoE, sampling) while streaming tokens.
 *
 * <pre>{@code
 * try (var model = PolyV.load(Path.of("ckpt"), Backend.cpu())) {
 *     var request = GenerationRequest.builder("Describe this image.").image(Path.of("cat.jpg")).maxNewTokens(64).build();
 *     GenerationResult r = model.generate(request, (id, text) -> System.out.print(text));
 * }
 * }</pre>
 *
 * The facade owns the backend it is given and closes it (with the model) in {@link #close()}, also when
 * loading fails. Not thread-safe: one {@code generate} call at a time per instance (a call may run many
 * requests as one batch).
 */
public final class PolyV implements AutoCloseable {

    /** The tokenizer file looked for beside the checkpoint. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final Path dir;
    private final Backend backend;
    private final PolyVModel model;
    private final Tokenizer tokenizer; // null: raw prompt ids only
    private final PromptEncoder encoder; // null without tokenizer

    private PolyV(Path dir, Backend backend, PolyVModel model, Tokenizer tokenizer) {
        this.dir = dir;
        this.backend = backend;
        this.model = model;
        this.tokenizer = tokenizer;
        this.encoder = tokenizer == null ? null : new PromptEncoder(tokenizer, chatTokens(model.config(), tokenizer),
                model.config().vision().spatialMergeSize());
    }

    /**
     * Loads {@code config.json} and the safetensors of {@code checkpointDir}, and {@code tokenizer.json}
     * beside them when present (without one, only {@link GenerationRequest.Ids} prompts work).
     */
    public static PolyV load(Path checkpointDir, Backend backend) {
        Path tok = checkpointDir.resolve(TOKENIZER_FILE);
        return load(checkpointDir, backend, Files.isRegularFile(tok) ? tok : null);
    }

    /**
     * Loads a checkpoint and the given tokenizer.json ({@code null}: none).
     *
     * @throws IllegalArgumentException naming the file, tensor or token that is missing or does not fit
     */
    public static PolyV load(Path checkpointDir, Backend backend, Path tokenizerJson) {
        Objects.requireNonNull(backend, "backend");
        PolyVModel model = null;
        try {
            PathChecks.directory("model folder", checkpointDir);
            Tokenizer tok = null;
            if (tokenizerJson != null) {
                PathChecks.regularFile("tokenizer file", tokenizerJson);
                tok = Tokenizer.load(tokenizerJson);
            }
            model = PolyVModel.load(checkpointDir, backend);
            if (tok != null) checkTokenizer(model.config(), tok);
            return new PolyV(checkpointDir, backend, model, tok);
        } catch (RuntimeException e) {
            if (model != null) model.close();
            backend.close();
            throw e;
        }
    }

    /** The tokenizer must fit the model: no id beyond the vocabulary, the same vision token ids. */
    private static void checkTokenizer(PolyVConfig c, Tokenizer tok) {
        int vocab = c.text().vocabSize();
        if (tok.vocabSize() > vocab) {
            throw new IllegalArgumentException("tokenizer " + tok.source() + " has " + tok.vocabSize() + " ids but the model's vocab_size is "
                    + vocab + ": it belongs to another model");
        }
        chatTokens(c, tok);
        String[][] named = {{"<|image_pad|>", "image_token_id"}, {"<|video_pad|>", "video_token_id"},
                {"<|vision_start|>", "vision_start_token_id"}, {"<|vision_end|>", "vision_end_token_id"}};
        int[] ids = {c.tokens().imageTokenId(), c.tokens().videoTokenId(), c.tokens().visionStartTokenId(), c.tokens().visionEndTokenId()};
        for (int i = 0; i < named.length; i++) {
            int t = tok.tokenId(named[i][0]);
            if (t != ids[i]) {
                throw new IllegalArgumentException("tokenizer " + tok.source() + " has " + named[i][0] + " = " + t + " but config.json "
                        + named[i][1] + " is " + ids[i]);
            }
        }
    }

    private static ChatTokens chatTokens(PolyVConfig c, Tokenizer tok) {
        var t = c.tokens();
        int synergy = c.synergy() == null ? ChatTokens.NONE : c.synergy().tokenId();
        return ChatTokens.of(tok).withModelIds(t.visionStartTokenId(), t.visionEndTokenId(), t.imageTokenId(), t.videoTokenId(), synergy);
    }

    public PolyVModel model() {
        return model;
    }

    public PolyVConfig config() {
        return model.config();
    }

    public Backend backend() {
        return backend;
    }

    public Optional<Tokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** Generates without streaming. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, TokenConsumer.NONE);
    }

    /**
     * Runs one request: visuals are read and preprocessed, the prompt is built (chat template or raw
     * ids), then the model prefills and decodes; {@code onToken} gets every generated id and its text
     * piece as soon as it is chosen.
     */
    public GenerationResult generate(GenerationRequest request, TokenConsumer onToken) {
        Objects.requireNonNull(onToken, "onToken");
        return generate(List.of(request), 1, (i, id, text) -> onToken.accept(id, text)).get(0);
    }

    /**
     * Runs several requests with continuous batching: up to {@code maxBatch} of them decode together,
     * reading the weights once per step for the whole batch (throughput grows with the batch while decode
     * is bound by weight reads); when one ends, the next waiting request is prefilled and joins. Each
     * request gets the tokens it would get alone (greedy: the same ids; seeded sampling: the same draws,
     * up to the last-bit differences of batched float sums). {@code onToken} gets every id and text piece
     * with the request's index. Returns the results in request order.
     */
    public List<GenerationResult> generate(List<GenerationRequest> requests, int maxBatch, BatchTokenConsumer onToken) {
        Objects.requireNonNull(onToken, "onToken");
        int count = requests.size();
        List<Prepared> prepared = new ArrayList<>(count);
        List<TextStream> streams = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int request = i;
            prepared.add(prepare(requests.get(i)));
            streams.add(textStream(requests.get(i), (id, text) -> onToken.accept(request, id, text)));
        }
        List<Generator.Result> rs = new Generator(model).generate(prepared.stream().map(Prepared::job).toList(), maxBatch,
                (i, id) -> streams.get(i).push(id));
        List<GenerationResult> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) out.add(prepared.get(i).result(rs.get(i), streams.get(i).finish()));
        return out;
    }

    /**
     * A request made ready for the {@link Generator}: visuals read and preprocessed, prompt ids built, stop
     * tokens resolved.
     *
     * @param preprocessNanos wall time of the preparation
     */
    public record Prepared(GenerationRequest request, Generator.Job job, List<VisionInput> inputs, long preprocessNanos) {
        public Prepared {
            inputs = List.copyOf(inputs);
        }

        /** The request's result from the generator's result and the streamed text. */
        public GenerationResult result(Generator.Result r, String text) {
            var timings = new GenerationResult.Timings(preprocessNanos, r.prefillNanos(), r.visionNanos(), r.decodeNanos(), r.promptTokens(),
                    r.decodeSteps());
            return new GenerationResult(text, r.tokens(), job.promptIds(), inputs.stream().map(VisionInput::grid).toList(), r.stopReason(),
                    timings, r.routing());
        }
    }

    /** Reads and preprocesses a request's visuals and builds its prompt ids (throws naming what is wrong). */
    public Prepared prepare(GenerationRequest request) {
        if (!request.stopStrings().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need the model's tokenizer (no " + TOKENIZER_FILE + " beside " + dir + ")");
        }
        long t0 = System.nanoTime();
        List<VisionInput> in = new ArrayList<>();
        for (Visual v : request.visuals()) in.add(preprocess(v, request.pixels()));
        int[] promptIds = promptIds(request, in);
        Generator.Job job = new Generator.Job(promptIds, in, request.maxNewTokens(), request.sampling(), stopTokens(request));
        return new Prepared(request, job, in, System.nanoTime() - t0);
    }

    /** A text stream for one request's ids with this model's tokenizer (pieces empty without one) and its stop strings. */
    public TextStream textStream(GenerationRequest request, TokenConsumer onToken) {
        return new TextStream(tokenizer, request.skipSpecialTokens(), request.stopStrings(), onToken);
    }

    /** The ids a request prefills, given its preprocessed visual inputs. */
    public int[] promptIds(GenerationRequest request, List<VisionInput> inputs) {
        return switch (request.prompt()) {
            case GenerationRequest.Ids ids -> ids.ids();
            case GenerationRequest.Chat chat -> {
                if (encoder == null) {
                    throw new IllegalArgumentException("model " + dir + " has no tokenizer (no " + TOKENIZER_FILE
                            + " beside the checkpoint): give a tokenizer.json, or prompt ids");
                }
                // each user message opens with its own visuals (the exchanges' counts in order, the rest for the new
                // message); the synergy tokens follow the visuals of the conversation's first user message
                ChatPrompt.Builder b = ChatPrompt.builder();
                if (chat.system() != null) b.system(chat.system());
                int next = 0;
                boolean first = true;
                for (GenerationRequest.Exchange e : chat.history()) {
                    List<ChatPrompt.Part> user = visualParts(inputs.subList(next, next + e.visuals()));
                    next += e.visuals();
                    if (first && request.synergyTokens() > 0) user.add(new ChatPrompt.Synergy(request.synergyTokens()));
                    first = false;
                    user.add(new ChatPrompt.Text(e.user()));
                    b.user(user).assistant(e.assistant());
                }
                List<ChatPrompt.Part> last = visualParts(inputs.subList(next, inputs.size()));
                if (first && request.synergyTokens() > 0) last.add(new ChatPrompt.Synergy(request.synergyTokens()));
                last.add(new ChatPrompt.Text(chat.text()));
                yield encoder.encode(b.user(last).build());
            }
        };
    }

    /** The template parts of {@code inputs}: an image or video placeholder run each. */
    private static List<ChatPrompt.Part> visualParts(List<VisionInput> inputs) {
        List<ChatPrompt.Part> parts = new ArrayList<>();
        for (VisionInput in : inputs) {
            var g = in.grid();
            parts.add(in.kind() == VisionInput.Kind.IMAGE ? new ChatPrompt.Image(g.t(), g.h(), g.w()) : new ChatPrompt.Video(g.t(), g.h(), g.w()));
        }
        return parts;
    }

    private StopTokens stopTokens(GenerationRequest request) {
        TreeSet<Integer> ids = new TreeSet<>(request.stopTokens());
        if (request.defaultStopTokens()) {
            ids.addAll(model.config().tokens().eosTokenIds());
            if (tokenizer != null) {
                for (String s : new String[] {"<|im_end|>", "<|endoftext|>"}) if (tokenizer.hasToken(s)) ids.add(tokenizer.tokenId(s));
            }
        }
        return new StopTokens(ids);
    }

    /** One visual as the vision encoder's input (read, smart-resized within {@code pixels}, patchified; 3D PE for scenes). */
    public VisionInput preprocess(Visual v, VisionPreprocessor.Options pixels) {
        VisionPreprocessor pre = new VisionPreprocessor(pixels);
        return switch (v) {
            case Visual.ImageFile f -> pre.image(ImageFiles.read(f.file()));
            case Visual.ImageBytes b -> pre.image(ImageFiles.decode(b.data(), b.what()));
            case Visual.Image i -> pre.image(i.frames());
            case Visual.VideoDirectory d -> {
                VideoFrames vf = VideoFrames.readDirectory(d.dir(), d.fps(), d.sourceFps());
                yield pre.video(vf.frames(), vf.secondsPerGrid());
            }
            case Visual.Video vv -> pre.video(vv.frames(), VisionPreprocessor.TEMPORAL_PATCH / vv.fps());
            case Visual.SceneDirectory s -> scene(ScanNetScene.load(s.dir(), s.views(), pixels.minPixels(), pixels.maxPixels()), s.dir().toString());
            case Visual.Scene s -> scene(s.scene(), "the scene");
            case Visual.Preprocessed p -> p.input();
        };
    }

    private VisionInput scene(MultiViewScene scene, String what) {
        Position3dConfig p3 = model.config().position3d();
        if (p3 == null) {
            throw new IllegalArgumentException(what + " needs 3D positional encoding but the model's config.json has no position_3d");
        }
        return scene.toVisionInput(model.config().text().hiddenSize(), p3.base(), p3.mergePixels());
    }

    @Override
    public void close() {
        try {
            model.close();
        } finally {
            backend.close();
        }
    }
}

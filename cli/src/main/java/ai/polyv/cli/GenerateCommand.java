package ai.polyv.cli;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.TokenConsumer;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.SmartResize;
import ai.polyv.core.sampling.SamplingOptions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv generate}: one prompt (chat template, or raw ids) with optional images, videos and
 * ScanNet scenes; the text is streamed to stdout as it is produced, timings (and with
 * {@code --routing-stats} the MoE routing) go to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt with optional images, video and 3D scenes, streaming.")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder (config.json + safetensors)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: DIR/tokenizer.json)")
    Path tokenizer;

    @ArgGroup(multiplicity = "1")
    PromptSource prompt;

    static final class PromptSource {
        @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "user message (Qwen2.5-VL chat template)")
        String text;

        @Option(names = "--prompt-ids", required = true, split = ",", paramLabel = "ID",
                description = "raw prompt ids, comma separated, no template (models without a tokenizer)")
        int[] ids;

        @Option(names = "--batch-file", required = true, paramLabel = "IN.jsonl",
                description = "many requests, one JSON object per line ({\"prompt\": ..} or {\"prompt_ids\": [..]}, optional system, images, "
                        + "videos, scenes, synergy_tokens, max_new_tokens, temperature, top_p, top_k, seed; others from the options here), "
                        + "decoded together with continuous batching; results to --out")
        Path batchFile;
    }

    @Option(names = "--out", paramLabel = "OUT.jsonl", description = "with --batch-file: one result per request, in order (written atomically)")
    Path out;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N",
            description = "with --batch-file: sequences decoded together (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--system", paramLabel = "TEXT", description = "system message (default: \"You are a helpful assistant.\")")
    String system;

    @Option(names = "--history", paramLabel = "FILE",
            description = "earlier exchanges of the conversation, a JSON array [{\"user\": .., \"assistant\": ..}, ..] (with --prompt; "
                    + "the visuals open its first user message)")
    Path history;

    @Option(names = "--stop", paramLabel = "TEXT", description = "end generation when the text contains TEXT (left out of the output; repeatable)")
    List<String> stops = new ArrayList<>();

    @Option(names = "--image", paramLabel = "FILE", description = "PNG or JPEG image (repeatable)")
    List<Path> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "DIR", description = "folder of frame images, in name order (repeatable)")
    List<Path> videos = new ArrayList<>();

    @Option(names = "--fps", defaultValue = "2", paramLabel = "N", description = "frames per second to sample videos at (default: ${DEFAULT-VALUE})")
    double fps;

    @Option(names = "--source-fps", paramLabel = "N", description = "frame rate of the video folders (default: --fps, every frame is used)")
    Double sourceFps;

    @Option(names = "--scene", paramLabel = "SCANNET_DIR", description = "ScanNet-layout scene folder (color/, depth/, intrinsic/, pose/), repeatable")
    List<Path> scenes = new ArrayList<>();

    @Option(names = "--scene-views", defaultValue = "4", paramLabel = "N", description = "views per scene, even (default: ${DEFAULT-VALUE})")
    int sceneViews;

    @Option(names = "--synergy-tokens", defaultValue = "0", paramLabel = "N", description = "<synergy> tokens after the visuals (default: ${DEFAULT-VALUE})")
    int synergyTokens;

    @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "0 = no limit (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--min-pixels", paramLabel = "N", description = "smart-resize lower pixel bound (default: 56*56)")
    int minPixels = SmartResize.DEFAULT_MIN_PIXELS;

    @Option(names = "--max-pixels", paramLabel = "N", description = "smart-resize upper pixel bound (default: 28*28*1280)")
    int maxPixels = SmartResize.DEFAULT_MAX_PIXELS;

    @Option(names = "--show-special", description = "print special tokens in the text")
    boolean showSpecial;

    @Option(names = "--routing-stats", description = "print each expert's share of tokens per MoE layer and modality")
    boolean routingStats;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "cpu, cuda (fp32) or cuda-bf16 (bf16, fused PolyV kernels) (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU worker threads (default: all processors)")
    int threads;

    @Override
    public Integer call() {
        // path errors before the model is loaded (the readers check again, with the same messages)
        PathChecks.directory("model folder", model);
        for (Path p : images) PathChecks.regularFile("image file", p);
        for (Path p : videos) PathChecks.directory("video directory", p);
        for (Path p : scenes) PathChecks.directory("scene directory", p);
        Path tok = tokenizer == null ? null : PathChecks.regularFile("tokenizer file", tokenizer);
        if (tok == null) {
            Path beside = model.resolve(PolyV.TOKENIZER_FILE);
            String problem = PathChecks.notARegularFile(beside);
            if (prompt.text != null && problem != null) {
                throw new IllegalArgumentException("no tokenizer: " + beside + " " + problem + " (pass --tokenizer FILE, or --prompt-ids for raw ids)");
            }
            tok = problem == null ? beside : null;
        }
        if (prompt.batchFile != null) return batch(tok);
        if (out != null) throw new IllegalArgumentException("--out is for --batch-file (a single prompt streams to stdout)");
        if (history != null && prompt.text == null) throw new IllegalArgumentException("--history needs --prompt (a chat prompt), not --prompt-ids");
        GenerationRequest.Builder b = defaults(prompt.text != null
                ? new GenerationRequest.Chat(prompt.text, null, history == null ? List.of() : BatchFile.historyFile(history))
                        .visualsInFirstTurn(images.size() + videos.size() + scenes.size())
                : new GenerationRequest.Ids(prompt.ids));
        for (Path p : images) b.visual(new Visual.ImageFile(p));
        for (Path p : videos) b.visual(new Visual.VideoDirectory(p, fps, sourceFps == null ? fps : sourceFps));
        for (Path p : scenes) b.visual(new Visual.SceneDirectory(p, sceneViews));
        GenerationRequest request = b.build();

        PrintStream stdout = GenerationReport.utf8Stdout();
        PrintStream err = System.err;
        Backend be = BackendOption.create(backend, threads);
        long t0 = System.nanoTime();
        try (PolyV polyv = PolyV.load(model, be, tok)) {
            long loadNanos = System.nanoTime() - t0;
            GenerationResult r = polyv.generate(request, (id, text) -> {
                stdout.print(text);
                stdout.flush();
            });
            // without a tokenizer there is no text: the ids are the output
            stdout.println(polyv.tokenizer().isEmpty() ? java.util.Arrays.toString(r.ids()) : "");
            int context = polyv.config().text().maxPositionEmbeddings();
            err.printf(java.util.Locale.ROOT, "load: %s in %.1f s (backend %s)%n", model, loadNanos / 1e9, be.name());
            GenerationReport.timings(err, r, maxNewTokens, context);
            if (routingStats) {
                GenerationReport.routing(err, r.routing(), polyv.config().moe() == null ? 0 : polyv.config().moe().topK());
            }
        }
        return 0;
    }

    /** A builder for {@code p} with every option of this command applied (a chat prompt gets --system). */
    private GenerationRequest.Builder defaults(GenerationRequest.Prompt p) {
        GenerationRequest.Builder b = GenerationRequest.builder(p);
        if (system != null && p instanceof GenerationRequest.Chat c && c.system() == null) b.system(system);
        stops.forEach(b::stopString);
        return b.synergyTokens(synergyTokens).maxNewTokens(maxNewTokens).sampling(sampling()).skipSpecialTokens(!showSpecial)
                .pixels(minPixels, maxPixels);
    }

    private SamplingOptions sampling() {
        return new SamplingOptions(temperature, topK, topP, seed);
    }

    /** {@code --batch-file IN --out OUT}: every request of IN, decoded together, results to OUT. */
    private int batch(Path tok) {
        if (out == null) throw new IllegalArgumentException("--batch-file needs --out FILE for the results");
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (!images.isEmpty() || !videos.isEmpty() || !scenes.isEmpty() || history != null) {
            throw new IllegalArgumentException("with --batch-file give each request's history, images, videos and scenes in its line, not as options");
        }
        List<BatchFile.Entry> entries = BatchFile.read(prompt.batchFile, this::defaults, sampling(), fps, sceneViews);
        PrintStream err = System.err;
        Backend be = BackendOption.create(backend, threads);
        long t0 = System.nanoTime();
        try (PolyV polyv = PolyV.load(model, be, tok)) {
            err.printf(java.util.Locale.ROOT, "load: %s in %.1f s (backend %s); %d requests, up to %d decoded together%n", model,
                    (System.nanoTime() - t0) / 1e9, be.name(), entries.size(), maxBatch);
            long t1 = System.nanoTime();
            long[] tokens = {0};
            long[] lastReport = {t1};
            List<GenerationResult> results = polyv.generate(entries.stream().map(BatchFile.Entry::request).toList(), maxBatch, (i, id, text) -> {
                if (id == TokenConsumer.END) return;
                tokens[0]++;
                long now = System.nanoTime();
                if (now - lastReport[0] > 2_000_000_000L) {
                    lastReport[0] = now;
                    err.printf(java.util.Locale.ROOT, "generate: %d tokens, %.1f tokens/s%n", tokens[0], tokens[0] / ((now - t1) / 1e9));
                }
            });
            double seconds = (System.nanoTime() - t1) / 1e9;
            try {
                BatchFile.write(out, entries, results);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot write " + out + ": " + e, e);
            }
            err.printf(java.util.Locale.ROOT, "generate: %d requests, %d tokens in %.1f s = %.1f tokens/s (prefills included) -> %s%n",
                    entries.size(), tokens[0], seconds, tokens[0] / seconds, out);
        }
        return 0;
    }
}

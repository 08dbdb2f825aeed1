package ai.polyv.cli;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.runtime.PolyV;
import ai.polyv.runtime.backend.Backend;
import ai.polyv.runtime.generate.GenerationRequest;
import ai.polyv.runtime.generate.GenerationResult;
import ai.polyv.runtime.generate.Visual;
import ai.polyv.runtime.preprocess.SmartResize;
import ai.polyv.runtime.sampling.SamplingOptions;
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
    }

    @Option(names = "--system", paramLabel = "TEXT", description = "system message (default: \"You are a helpful assistant.\")")
    String system;

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
        GenerationRequest.Builder b = prompt.text != null ? GenerationRequest.builder(prompt.text) : GenerationRequest.builderOfIds(prompt.ids);
        if (system != null) b.system(system);
        for (Path p : images) b.visual(new Visual.ImageFile(p));
        for (Path p : videos) b.visual(new Visual.VideoDirectory(p, fps, sourceFps == null ? fps : sourceFps));
        for (Path p : scenes) b.visual(new Visual.SceneDirectory(p, sceneViews));
        GenerationRequest request = b.synergyTokens(synergyTokens).maxNewTokens(maxNewTokens)
                .sampling(new SamplingOptions(temperature, topK, topP, seed)).skipSpecialTokens(!showSpecial)
                .pixels(minPixels, maxPixels).build();

        PrintStream out = GenerationReport.utf8Stdout();
        PrintStream err = System.err;
        Backend be = BackendOption.create(backend, threads);
        long t0 = System.nanoTime();
        try (PolyV polyv = PolyV.load(model, be, tok)) {
            long loadNanos = System.nanoTime() - t0;
            GenerationResult r = polyv.generate(request, (id, text) -> {
                out.print(text);
                out.flush();
            });
            // without a tokenizer there is no text: the ids are the output
            out.println(polyv.tokenizer().isEmpty() ? java.util.Arrays.toString(r.ids()) : "");
            int context = polyv.config().text().maxPositionEmbeddings();
            err.printf(java.util.Locale.ROOT, "load: %s in %.1f s (backend %s)%n", model, loadNanos / 1e9, be.name());
            GenerationReport.timings(err, r, maxNewTokens, context);
            if (routingStats) {
                GenerationReport.routing(err, r.routing(), polyv.config().moe() == null ? 0 : polyv.config().moe().topK());
            }
        }
        return 0;
    }
}

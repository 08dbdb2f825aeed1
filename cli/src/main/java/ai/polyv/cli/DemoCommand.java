package ai.polyv.cli;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.demo.DemoCheckpoint;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.sampling.SamplingOptions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv demo}: creates (first run) or reuses the small random-weight demo checkpoint, then runs
 * a synthetic picture and a question through the whole pipeline and prints the streamed answer, the
 * timings and the MoE routing. The weights are random, so the answer is not meaningful text; it is
 * deterministic for a seed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run image + text through the whole PolyV pipeline on an embedded small model (no downloads).")
public final class DemoCommand implements Callable<Integer> {

    public static final String DEFAULT_PROMPT = "Describe this image.";
    /** The synthetic picture's size: 18 x 24 patches, 9 x 12 = 108 merged image tokens. */
    public static final int IMAGE_HEIGHT = 252, IMAGE_WIDTH = 336;

    @Option(names = "--prompt", defaultValue = DEFAULT_PROMPT, paramLabel = "TEXT", description = "question about the picture (default: ${DEFAULT-VALUE})")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0.8", paramLabel = "T", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "default: ${DEFAULT-VALUE}")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--image", paramLabel = "FILE", description = "use this PNG/JPEG instead of the synthetic picture")
    Path image;

    @Option(names = "--cache", paramLabel = "DIR", description = "checkpoint folder (default: $POLYV_CACHE/demo-v<N> or ~/.cache/polyv/demo-v<N>)")
    Path cache;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "cpu or cuda (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU worker threads (default: all processors)")
    int threads;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        PrintStream out = GenerationReport.utf8Stdout();
        if (image != null) PathChecks.regularFile("image file", image);   // before the checkpoint is written
        Path dir = cache != null ? cache : DemoCheckpoint.defaultDir(System.getenv());
        DemoCheckpoint.Prepared ck = DemoCheckpoint.prepare(dir, System.err);
        switch (ck.origin()) {
            case CACHED -> out.printf(Locale.ROOT, "demo checkpoint: %s (cached, checked in %.1f s)%n", ck.dir(), ck.nanos() / 1e9);
            case CREATED -> out.printf(Locale.ROOT, "demo checkpoint: %s (created in %.1f s, %.0f MB)%n", ck.dir(), ck.nanos() / 1e9, ck.bytes() / 1e6);
            case RECREATED -> out.printf(Locale.ROOT, "demo checkpoint: %s (re-created in %.1f s: %s)%n", ck.dir(), ck.nanos() / 1e9, ck.replacedBecause());
        }
        Backend be = BackendOption.create(backend, threads);
        long tl = System.nanoTime();
        try (PolyV polyv = PolyV.load(ck.dir(), be)) {
            PolyVConfig c = polyv.config();
            out.printf(Locale.ROOT, "model: random weights (BF16), decoder %d layers x %d, MoE in layers %s (%d experts, top-%d), vision %d blocks x %d, "
                            + "vocab %d (real Qwen tokenizer); loaded in %.1f s on %s%n",
                    c.text().numLayers(), c.text().hiddenSize(), java.util.Arrays.toString(c.moe().layers()), c.moe().numExperts(), c.moe().topK(),
                    c.vision().depth(), c.vision().hiddenSize(), c.text().vocabSize(), (System.nanoTime() - tl) / 1e9, be.name());
            Visual picture;
            String what;
            if (image != null) {
                picture = new Visual.ImageFile(image);
                what = image.toString();
            } else {
                RgbFrames img = DemoImage.create(IMAGE_HEIGHT, IMAGE_WIDTH);
                picture = new Visual.Image(img);
                what = "synthetic " + IMAGE_HEIGHT + "x" + IMAGE_WIDTH + " picture";
            }
            GenerationRequest request = GenerationRequest.builder(prompt).visual(picture).maxNewTokens(maxNewTokens)
                    .sampling(new SamplingOptions(temperature, topK, topP, seed)).build();
            out.println("user: [" + what + "] " + prompt);
            out.print("assistant: ");
            out.flush();
            GenerationResult r = polyv.generate(request, (id, text) -> {
                out.print(text);
                out.flush();
            });
            out.println();
            out.println("ids: " + java.util.Arrays.toString(r.ids()));
            GenerationReport.timings(out, r, maxNewTokens, c.text().maxPositionEmbeddings());
            GenerationReport.routing(out, r.routing(), c.moe().topK());
        }
        double cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
        out.printf(Locale.ROOT, "total: %.1f s wall since start of the command, %.1f s CPU time of the process (JVM start and JIT included)%n",
                (System.nanoTime() - t0) / 1e9, cpu);
        return 0;
    }
}

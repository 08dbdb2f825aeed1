package ai.polyv.bench.cuda;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.bench.DecodeBench;
import ai.polyv.bench.MachineInfo;
import ai.polyv.bench.ModelConfigs;
import ai.polyv.bench.Roofline;
import ai.polyv.bench.Table;
import ai.polyv.bench.Timing;
import ai.polyv.cuda.CudaBackend;
import ai.polyv.cuda.DeviceRandomWeights;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.Session;
import ai.polyv.core.model.VisionInput;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@code polyv bench e2e}: the real-size model on the GPU with random BF16 weights made on the device
 * ({@link DeviceRandomWeights}: no file, no host copy): image prefill latency (one 448x448 image, 256 merged
 * tokens, plus 37 text tokens), the vision encoder alone on that image, and greedy decode tokens/s against the
 * decode memory roofline (the weights one token reads / the copy bandwidth measured in the same run).
 */
public final class E2eBench {
    private E2eBench() {}

    public static final int IMAGE_PIXELS = 448, TEXT_TOKENS = 37;

    /**
     * What to run.
     *
     * @param batches       decode batch sizes: B image prompts prefilled, then stepped together ({@link Session#decode(List, int[])})
     * @param decodeTokens  greedy steps timed after the prefill
     * @param runs          timed prefills (and vision encodes) after one warm-up
     */
    public record Options(String config, boolean randomWeights, String backend, List<Integer> batches, int decodeTokens, int runs) {
        public Options {
            if (!randomWeights) {
                throw new IllegalArgumentException("bench e2e: --random-weights is required (weights are made on the device; no checkpoint "
                        + "of this size is read)");
            }
            if (!ModelConfigs.NAMES.contains(config)) {
                throw new IllegalArgumentException("--config must be one of " + ModelConfigs.NAMES + ", got '" + config + "'");
            }
            if (!backend.equals("cuda") && !backend.equals("cuda-bf16")) {
                throw new IllegalArgumentException("bench e2e runs on the GPU: --backend must be cuda or cuda-bf16, got '" + backend + "'");
            }
            if (batches == null || batches.isEmpty()) throw new IllegalArgumentException("--batch needs at least one batch size");
            for (int b : batches) if (b < 1) throw new IllegalArgumentException("--batch: every size must be >= 1, got " + b);
            if (decodeTokens < 1) throw new IllegalArgumentException("--tokens must be >= 1, got " + decodeTokens);
            if (runs < 1) throw new IllegalArgumentException("--runs must be >= 1, got " + runs);
            batches = List.copyOf(batches);
        }

        public CudaBackend.Precision precision() {
            return backend.equals("cuda") ? CudaBackend.Precision.F32 : CudaBackend.Precision.BF16;
        }
    }

    /**
     * Greedy decode at one batch size.
     *
     * @param batch           sequences per step (each with its own image prompt)
     * @param step            wall time of one batched step (host argmax over the downloaded logits included)
     * @param tokensPerSecond batch / median step
     * @param bytesPerStep    weights one step reads (see {@link #bytesPerDecodeStep})
     * @param rooflineTokensPerSecond batch x copy bandwidth / bytesPerStep
     */
    public record Decode(int batch, Timing.Stats step, double tokensPerSecond, double bytesPerStep, double rooflineTokensPerSecond,
                         double fraction) {}

    /** The results; {@code decode} has one entry per batch size asked for. */
    public record Report(String benchmark, String config, String backend, String device, MachineInfo machine, GpuCeilings ceilings,
                         ModelConfigs.ParameterCounts parameters, double deviceWeightGB, double makeWeightsSeconds,
                         int promptTokens, int imageMergedTokens, Timing.Stats imagePrefill, Timing.Stats visionEncoder,
                         int decodeTokens, List<Decode> decode, List<String> notes) {}

    /** Patch grid of a square image of {@code pixels} (a multiple of 28): {@code (1, pixels/14, pixels/14)}. */
    public static VisionInput.GridThw imageGrid(int pixels) {
        if (pixels % 28 != 0) throw new IllegalArgumentException("image side must be a multiple of 28, got " + pixels);
        return new VisionInput.GridThw(1, pixels / 14, pixels / 14);
    }

    /**
     * The prompt: half the text tokens, {@code <|vision_start|>}, one {@code <|image_pad|>} per merged token,
     * {@code <|vision_end|>}, the other half (ids drawn below the special tokens).
     */
    public static int[] prompt(PolyVConfig c, int mergedTokens, int textTokens, long seed) {
        Random r = new Random(seed);
        int specialFloor = Math.min(c.tokens().visionStartTokenId(), c.tokens().imageTokenId()) - 10;
        int[] ids = new int[textTokens + mergedTokens + 2];
        int at = 0;
        for (int i = 0; i < textTokens / 2; i++) ids[at++] = r.nextInt(specialFloor);
        ids[at++] = c.tokens().visionStartTokenId();
        for (int i = 0; i < mergedTokens; i++) ids[at++] = c.tokens().imageTokenId();
        ids[at++] = c.tokens().visionEndTokenId();
        while (at < ids.length) ids[at++] = r.nextInt(specialFloor);
        return ids;
    }

    /**
     * Bytes of weights one decode token reads at {@code bytesPerValue} (2 for BF16, 4 for F32): every decoder
     * matrix with the top-k experts per MoE layer, one embedding row, lm_head; the KV cache is left out (under
     * 0.5% of it at these lengths).
     */
    public static double bytesPerDecodeToken(PolyVConfig c, ModelConfigs.ParameterCounts p, int bytesPerValue) {
        return bytesPerDecodeStep(c, p, bytesPerValue, 1);
    }

    /**
     * Bytes of weights one decode step of {@code batch} tokens reads: as {@link #bytesPerDecodeToken}, with
     * {@code batch} embedding rows and, of each MoE layer's experts, the expected share a batch of uniformly
     * routed tokens touches, {@code 1 - (1 - topK/numExperts)^batch}.
     */
    public static double bytesPerDecodeStep(PolyVConfig c, ModelConfigs.ParameterCounts p, int bytesPerValue, int batch) {
        long embedding = (long) c.text().vocabSize() * c.text().hiddenSize();
        double experts = 0, touched = 0;                                        // top-k experts' values; those a batch touches
        if (c.moe() != null) {
            experts = p.llmActive() - p.llmDenseActive();
            double all = experts * c.moe().numExperts() / c.moe().topK();
            touched = all * Roofline.expertShareTouched(c.moe().topK(), c.moe().numExperts(), batch);
        }
        return (p.llmActive() - experts + touched - embedding + (double) batch * c.text().hiddenSize() + p.lmHead()) * bytesPerValue;
    }

    public static Report run(Options o, PrintStream log) {
        GpuCeilings.refuseEmulated();
        PolyVConfig config = ModelConfigs.named(o.config());
        ModelConfigs.ParameterCounts params = ModelConfigs.count(config);
        List<String> notes = new ArrayList<>();
        MachineInfo machine = MachineInfo.current();
        try (CudaBackend be = CudaBackend.open(o.precision())) {
            String device = be.context().info().toString();
            log.println("device: " + device + "; measuring ceilings ...");
            GpuCeilings ceilings = GpuCeilings.measure(be);
            log.println(ceilings.describe());
            log.printf("e2e: making %s weights on the device (%.2fB parameters) ...%n", o.config(), params.total() / 1e9);
            long t0 = System.nanoTime();
            try (DeviceRandomWeights w = new DeviceRandomWeights(config, be, 0x7B);
                 PolyVModel model = PolyVModel.of(config, w, be)) {
                be.synchronize();
                double makeSeconds = (System.nanoTime() - t0) / 1e9;
                log.printf("e2e: %.1f GB on the device in %.1f s%n", w.deviceBytes() / 1e9, makeSeconds);
                VisionInput.GridThw grid = imageGrid(IMAGE_PIXELS);
                int rowWidth = 3 * config.vision().temporalPatchSize() * config.vision().patchSize() * config.vision().patchSize();
                float[] pixels = new float[grid.patches() * rowWidth];
                Random r = new Random(1);
                for (int i = 0; i < pixels.length; i++) pixels[i] = (float) r.nextGaussian();
                VisionInput image = new VisionInput(VisionInput.Kind.IMAGE, pixels, grid, 1, null);
                int merged = grid.mergedTokens(config.vision().spatialMergeSize());
                int[] ids = prompt(config, merged, TEXT_TOKENS, 2);

                double[] visionMs = new double[o.runs()], prefillMs = new double[o.runs()];
                for (int run = -1; run < o.runs(); run++) {                 // run -1: warm-up
                    long v0 = System.nanoTime();
                    model.encodeVision(image);                               // returns host rows: synchronised
                    long v1 = System.nanoTime();
                    try (Session s = model.newSession(ids.length)) {
                        long p0 = System.nanoTime();
                        s.prefill(ids, List.of(image));                      // returns host logits: synchronised
                        long p1 = System.nanoTime();
                        if (run >= 0) {
                            visionMs[run] = (v1 - v0) / 1e6;
                            prefillMs[run] = (p1 - p0) / 1e6;
                        }
                    }
                    log.printf("e2e: %s vision %.1f ms, image prefill (%d tokens) %.1f ms%n", run < 0 ? "warm-up" : "run " + run,
                            (v1 - v0) / 1e6, ids.length, run < 0 ? Double.NaN : prefillMs[run]);
                }
                List<Decode> decodes = new ArrayList<>();
                for (int b : o.batches()) {
                    List<int[]> prompts = new ArrayList<>();
                    for (int i = 0; i < b; i++) prompts.add(prompt(config, merged, TEXT_TOKENS, 2 + i));   // the image, different text
                    double[] stepMs = DecodeBench.batchedStepsMs(model, prompts, java.util.Collections.nCopies(b, List.of(image)), o.decodeTokens(),
                            config.text().vocabSize());
                    Timing.Stats step = Timing.Stats.of(stepMs);
                    double tps = b * 1e3 / step.medianMs();
                    double bytes = bytesPerDecodeStep(config, params, o.precision() == CudaBackend.Precision.F32 ? 4 : 2, b);
                    double roof = b * ceilings.copyGBs() * 1e9 / bytes;
                    log.printf("e2e: decode batch %d: step %.2f ms, %.1f tokens/s (roofline %.1f)%n", b, step.medianMs(), tps, roof);
                    decodes.add(new Decode(b, step, tps, bytes, roof, tps / roof));
                }
                notes.add("a decode step is timed up to its logits on the host (the download synchronises); the greedy argmax after it is not");
                notes.add("decode steps are not captured as CUDA graphs yet: each op is launched from the host");
                return new Report("e2e", o.config(), be.name(), device, machine, ceilings, params, w.deviceBytes() / 1e9, makeSeconds,
                        ids.length, merged, Timing.Stats.of(prefillMs), Timing.Stats.of(visionMs), o.decodeTokens(), decodes, notes);
            }
        }
    }

    public static String table(Report r) {
        Table t = new Table("what", "value", "detail");
        t.row("parameters", String.format("%.2fB total", r.parameters().total() / 1e9),
                String.format("LLM %.2fB, %.2fB active (embedding in, lm_head %.2fB out); vision %.2fB", r.parameters().llm() / 1e9,
                        r.parameters().llmActive() / 1e9, r.parameters().lmHead() / 1e9, r.parameters().vision() / 1e9));
        t.row("weights on device", String.format("%.1f GB", r.deviceWeightGB()), String.format("made in %.1f s, never on the host", r.makeWeightsSeconds()));
        t.row("vision encoder", Table.num(r.visionEncoder().medianMs(), 1) + " ms",
                IMAGE_PIXELS + "x" + IMAGE_PIXELS + " image, " + r.imageMergedTokens() + " merged tokens, median of " + r.visionEncoder().runs());
        t.row("image prefill", Table.num(r.imagePrefill().medianMs(), 1) + " ms",
                r.promptTokens() + " tokens (" + TEXT_TOKENS + " text + image), vision included, median of " + r.imagePrefill().runs());
        for (Decode d : r.decode()) {
            t.row("decode, batch " + d.batch(), String.format("%.1f tokens/s", d.tokensPerSecond()),
                    String.format("median step %.2f ms over %d steps; roofline %.1f tokens/s (%.2f GB/step) = %.0f%%", d.step().medianMs(),
                            r.decodeTokens(), d.rooflineTokensPerSecond(), d.bytesPerStep() / 1e9, 100 * d.fraction()));
        }
        StringBuilder sb = new StringBuilder(t.render());
        for (String n : r.notes()) sb.append("note: ").append(n).append('\n');
        return sb.toString();
    }
}

package ai.polyv.spark;

import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.preprocess.SmartResize;
import ai.polyv.core.sampling.SamplingOptions;
import java.io.Serializable;
import java.util.List;

/**
 * Everything an executor needs to run requests: where the model is (a path every executor can read), how to load it,
 * how many sequences decode together, and the defaults a request's own fields override (the options of
 * {@code polyv generate}). Serializable: it travels with the tasks.
 *
 * @param model        checkpoint folder, readable on every executor
 * @param tokenizer    tokenizer.json; null: {@code model/tokenizer.json} when present
 * @param backend      {@code cpu}, {@code cuda} or {@code cuda-bf16}
 * @param threads      CPU worker threads per executor JVM, 0: all processors
 * @param maxBatch     sequences decoded together per executor JVM (the tasks of one JVM share its batcher)
 * @param baseDir      relative image, video and scene paths are resolved against it (the batch file's folder)
 * @param stops        stop strings of every request
 */
public record GenerateOptions(String model, String tokenizer, String backend, int threads, int maxBatch, String baseDir,
                              String system, List<String> stops, int synergyTokens, int maxNewTokens, double temperature, int topK,
                              double topP, long seed, double fps, int sceneViews, boolean showSpecial, int minPixels, int maxPixels)
        implements Serializable {

    public GenerateOptions {
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        stops = List.copyOf(stops);
    }

    /** The defaults of {@code polyv generate} for a model folder (greedy, 128 new tokens, 8 decoded together). */
    public static GenerateOptions of(String model) {
        return new GenerateOptions(model, null, "cpu", 0, 8, ".", null, List.of(), 0, GenerationRequest.DEFAULT_MAX_NEW_TOKENS, 0, 0, 1, 0,
                2, 4, false, SmartResize.DEFAULT_MIN_PIXELS, SmartResize.DEFAULT_MAX_PIXELS);
    }

    public GenerateOptions withMaxNewTokens(int n) {
        return new GenerateOptions(model, tokenizer, backend, threads, maxBatch, baseDir, system, stops, synergyTokens, n,
                temperature, topK, topP, seed, fps, sceneViews, showSpecial, minPixels, maxPixels);
    }

    public GenerateOptions withBatch(int maxBatch, int threads) {
        return new GenerateOptions(model, tokenizer, backend, threads, maxBatch, baseDir, system, stops, synergyTokens, maxNewTokens,
                temperature, topK, topP, seed, fps, sceneViews, showSpecial, minPixels, maxPixels);
    }

    public GenerateOptions withBaseDir(String dir) {
        return new GenerateOptions(model, tokenizer, backend, threads, maxBatch, dir, system, stops, synergyTokens, maxNewTokens,
                temperature, topK, topP, seed, fps, sceneViews, showSpecial, minPixels, maxPixels);
    }

    SamplingOptions sampling() {
        return new SamplingOptions(temperature, topK, topP, seed);
    }

    /** A builder for {@code p} with these defaults applied, as {@code polyv generate} does (a chat prompt gets {@code system}). */
    GenerationRequest.Builder defaults(GenerationRequest.Prompt p) {
        GenerationRequest.Builder b = GenerationRequest.builder(p);
        if (system != null && p instanceof GenerationRequest.Chat c && c.system() == null) b.system(system);
        stops.forEach(b::stopString);
        return b.synergyTokens(synergyTokens).maxNewTokens(maxNewTokens).sampling(sampling()).skipSpecialTokens(!showSpecial)
                .pixels(minPixels, maxPixels);
    }

    /** What identifies one loaded model in an executor JVM: requests with the same key share it. */
    String modelKey() {
        return model + "|" + tokenizer + "|" + backend + "|" + threads + "|" + maxBatch;
    }
}

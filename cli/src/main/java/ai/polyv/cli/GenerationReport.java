package ai.polyv.cli;

import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.model.RoutingStats;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/** How {@code generate} and {@code demo} print timings and routing statistics. */
final class GenerationReport {

    private GenerationReport() {}

    /** Standard output as UTF-8 (generated text may hold any character), autoflushed. */
    static PrintStream utf8Stdout() {
        if (StandardCharsets.UTF_8.equals(System.out.charset())) return System.out;
        return new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    }

    static String stopReason(GenerationResult r, int maxNewTokens, int context) {
        return switch (r.stopReason()) {
            case STOP_TOKEN -> "stop token";
            case STOP_STRING -> "stop string";
            case MAX_NEW_TOKENS -> "max new tokens (" + maxNewTokens + ")";
            case CONTEXT_FULL -> "context full (max_position_embeddings " + context + ")";
        };
    }

    /** Prefill and decode lines. */
    static void timings(PrintStream out, GenerationResult r, int maxNewTokens, int context) {
        GenerationResult.Timings t = r.timings();
        String grids = r.grids().isEmpty() ? "" : ", vision grids " + String.join(" ", r.grids().stream()
                .map(g -> g.t() + "x" + g.h() + "x" + g.w()).toList());
        out.printf(Locale.ROOT, "prompt: %d tokens%s; preprocessing %.1f ms%n", t.promptTokens(), grids, t.preprocessMillis());
        out.printf(Locale.ROOT, "prefill: %.1f ms, %.1f tokens/s%s%n", t.prefillMillis(), t.prefillTokensPerSecond(),
                r.grids().isEmpty() ? "" : String.format(Locale.ROOT, " (vision encoder %.1f ms)", t.visionMillis()));
        out.printf(Locale.ROOT, "decode: %d tokens generated, %d decode steps in %.1f ms, %.1f tokens/s%n", r.ids().length, t.decodeSteps(),
                t.decodeMillis(), t.decodeTokensPerSecond());
        out.println("stop: " + stopReason(r, maxNewTokens, context));
    }

    /** Per MoE layer and modality: each expert's share of the top-k assignments (uniform = 1/experts). */
    static void routing(PrintStream out, RoutingStats s, int topK) {
        if (s.moeLayers().length == 0) {
            out.println("routing: the model has no MoE layers");
            return;
        }
        int e = s.numExperts();
        out.printf(Locale.ROOT, "routing: share of the top-%d expert assignments per MoE layer (uniform = %.1f%%)%n", topK, 100.0 / e);
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-6s %-8s %7s", "layer", "modality", "tokens"));
        for (int i = 0; i < e; i++) head.append(String.format(Locale.ROOT, " %7s", "e" + i));
        out.println(head);
        for (int layer : s.moeLayers()) {
            row(out, String.valueOf(layer), "all", s.tokensPerExpert(layer), topK);
            for (RoutingStats.Modality m : RoutingStats.Modality.values()) {
                long[] c = s.tokensPerExpert(layer, m);
                if (Arrays.stream(c).sum() > 0) row(out, "", m.name().toLowerCase(Locale.ROOT), c, topK);
            }
        }
    }

    private static void row(PrintStream out, String layer, String modality, long[] counts, int topK) {
        long sum = Arrays.stream(counts).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-6s %-8s %7d", layer, modality, sum / Math.max(1, topK)));
        for (long c : counts) sb.append(String.format(Locale.ROOT, " %6.1f%%", sum == 0 ? 0.0 : 100.0 * c / sum));
        out.println(sb);
    }
}

package ai.polyv.bench.jmh;

import org.openjdk.jmh.annotations.Param;

/**
 * Attention: rope, attentionCausal (decode over a 1k cache, prefill of 256), attentionSegments (vision windows, full) (cases of {@code CpuOpCases} family {@code attention}, same shapes and rotated inputs as {@code polyv bench ops}).
 */
public class AttentionBenchmark extends CaseBenchmark {
    /** Must equal {@code CpuOpCases.names("attention")} (checked by a test). */
    @Param({
            "rope.256x28x128",
            "attentionCausal.decode.ctx1024",
            "attentionCausal.prefill.n256",
            "attentionSegments.window.16x64",
            "attentionSegments.full.1x1024"})
    public String name;

    @Override
    protected String caseName() {
        return name;
    }
}

package ai.polyv.bench.jmh;

import org.openjdk.jmh.annotations.Param;

/**
 * MoE router: logits matmul and softmaxTopK (cases of {@code CpuOpCases} family {@code routing}, same shapes and rotated inputs as {@code polyv bench ops}).
 */
public class RoutingBenchmark extends CaseBenchmark {
    /** Must equal {@code CpuOpCases.names("routing")} (checked by a test). */
    @Param({
            "matmul.router.n256.4x3584",
            "softmaxTopK.4096x4.k2"})
    public String name;

    @Override
    protected String caseName() {
        return name;
    }
}

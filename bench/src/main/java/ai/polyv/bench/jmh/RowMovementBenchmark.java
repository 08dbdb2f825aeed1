package ai.polyv.bench.jmh;

import org.openjdk.jmh.annotations.Param;

/**
 * Row movement: embedding gather, MoE permutation (gather) and combine (scatterAddScaled), host TokenPermutation (cases of {@code CpuOpCases} family {@code rows}, same shapes and rotated inputs as {@code polyv bench ops}).
 */
public class RowMovementBenchmark extends CaseBenchmark {
    /** Must equal {@code CpuOpCases.names("rows")} (checked by a test). */
    @Param({
            "embedding.bf16.64of32768x3584",
            "gatherRows.512of256x3584",
            "scatterAddScaled.512to256x3584",
            "permutation.4096x2of4"})
    public String name;

    @Override
    protected String caseName() {
        return name;
    }
}

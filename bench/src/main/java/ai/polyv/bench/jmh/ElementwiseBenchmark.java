package ai.polyv.bench.jmh;

import org.openjdk.jmh.annotations.Param;

/**
 * Element-wise ops: rmsNorm, siluMul, gelu, add (cases of {@code CpuOpCases} family {@code elementwise}, same shapes and rotated inputs as {@code polyv bench ops}).
 */
public class ElementwiseBenchmark extends CaseBenchmark {
    /** Must equal {@code CpuOpCases.names("elementwise")} (checked by a test). */
    @Param({
            "rmsNorm.64x3584",
            "rmsNorm.1x3584",
            "siluMul.64x18944",
            "gelu.256x5120",
            "add.64x3584",
            "copy.8x512"})
    public String name;

    @Override
    protected String caseName() {
        return name;
    }
}

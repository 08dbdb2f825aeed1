package ai.polyv.bench.jmh;

import org.openjdk.jmh.annotations.Param;

/**
 * Decoder matmuls: GEMV (decode, n = 1) with BF16 and F32 weights, the batched-decode GEMM (n = 8), GEMM (prefill / expert batches) (cases of {@code CpuOpCases} family {@code matmul}, same shapes and rotated inputs as {@code polyv bench ops}).
 */
public class MatmulBenchmark extends CaseBenchmark {
    /** Must equal {@code CpuOpCases.names("matmul")} (checked by a test). */
    @Param({
            "gemv.bf16.3584x3584",
            "gemv.bf16.18944x3584",
            "gemv.bf16.3584x18944",
            "gemv.f32.3584x3584",
            "gemv.f32.18944x3584",
            "gemv.bf16.2816x1024",
            "gemv.bf16.151680x1024",
            "gemm.bf16.n8.3584x3584",
            "gemm.bf16.n64.3584x3584",
            "gemm.bf16.n256.3584x3584",
            "gemm.bf16.n512.3584x3584",
            "gemm.f32.n256.3584x3584",
            "gemm.bf16.n256.18944x3584"})
    public String name;

    @Override
    protected String caseName() {
        return name;
    }
}

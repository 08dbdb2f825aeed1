package ai.polyv.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoder matmuls: GEMV (decode, n = 1) with BF16 and F32 weights, GEMM (prefill / expert batches) (cases of {@code CpuOpCases} family {@code matmul}, same shapes and rotated inputs as {@code polyv bench ops}).
 * Primary score: calls/s; {@code gigabytes} / {@code gigaflops}: GB/s and GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MatmulBenchmark {
    /** Must equal {@code CpuOpCases.names("matmul")} (checked by a test). */
    @Param({
            "gemv.bf16.3584x3584",
            "gemv.bf16.18944x3584",
            "gemv.bf16.3584x18944",
            "gemv.f32.3584x3584",
            "gemv.f32.18944x3584",
            "gemm.bf16.n64.3584x3584",
            "gemm.bf16.n256.3584x3584",
            "gemm.bf16.n512.3584x3584",
            "gemm.f32.n256.3584x3584",
            "gemm.bf16.n256.18944x3584"})
    public String name;

    private CaseRunner runner;

    @Setup(Level.Trial)
    public void setup() {
        runner = new CaseRunner(name);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        runner.close();
    }

    @Benchmark
    public void op(Blackhole bh, Traffic traffic) {
        runner.run(bh, traffic);
    }
}

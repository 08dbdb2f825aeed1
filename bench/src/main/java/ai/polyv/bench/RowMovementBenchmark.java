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
 * Row movement: embedding gather, MoE permutation (gather) and combine (scatterAddScaled), host TokenPermutation (cases of {@code CpuOpCases} family {@code rows}, same shapes and rotated inputs as {@code polyv bench ops}).
 * Primary score: calls/s; {@code gigabytes} / {@code gigaflops}: GB/s and GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RowMovementBenchmark {
    /** Must equal {@code CpuOpCases.names("rows")} (checked by a test). */
    @Param({
            "embedding.bf16.64of32768x3584",
            "gatherRows.512of256x3584",
            "scatterAddScaled.512to256x3584",
            "permutation.4096x2of4"})
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

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
 * Element-wise ops: rmsNorm, siluMul, gelu, add (cases of {@code CpuOpCases} family {@code elementwise}, same shapes and rotated inputs as {@code polyv bench ops}).
 * Primary score: calls/s; {@code gigabytes} / {@code gigaflops}: GB/s and GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ElementwiseBenchmark {
    /** Must equal {@code CpuOpCases.names("elementwise")} (checked by a test). */
    @Param({
            "rmsNorm.64x3584",
            "rmsNorm.1x3584",
            "siluMul.64x18944",
            "gelu.256x5120",
            "add.64x3584"})
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

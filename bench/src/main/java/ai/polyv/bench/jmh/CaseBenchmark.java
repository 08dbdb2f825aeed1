package ai.polyv.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The state and the one benchmark method shared by every {@code CpuOpCases} family: a subclass only names its
 * cases ({@code @Param public String name}, which must equal {@code CpuOpCases.names(family)}) and returns the
 * chosen one from {@link #caseName()}. JMH generates {@code op} for each concrete subclass
 * (e.g. {@code MatmulBenchmark.op}). Primary score: calls/s; {@code gigabytes} / {@code gigaflops}: GB/s and GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public abstract class CaseBenchmark {
    private CaseRunner runner;

    /** The {@code CpuOpCases} case this trial runs (the subclass's {@code @Param}). */
    protected abstract String caseName();

    @Setup(Level.Trial)
    public void setup() {
        runner = new CaseRunner(caseName());
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

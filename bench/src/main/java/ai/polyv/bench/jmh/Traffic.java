package ai.polyv.bench.jmh;

import ai.polyv.bench.OpCase;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JMH secondary results: bytes moved and FLOPs done, counted per benchmark call and normalised by JMH to
 * the output time unit. With {@code @OutputTimeUnit(SECONDS)} the {@code gigabytes} column reads GB/s and
 * {@code gigaflops} GFLOP/s (compare with {@code polyv bench ops}, which prints the measured ceilings).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Traffic {
    public double gigabytes;
    public double gigaflops;

    @Setup(Level.Iteration)
    public void reset() {
        gigabytes = 0;
        gigaflops = 0;
    }

    void add(OpCase.Info info) {
        gigabytes += info.bytes() / 1e9;
        gigaflops += info.flops() / 1e9;
    }
}

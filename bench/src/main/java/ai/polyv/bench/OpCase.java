package ai.polyv.bench;

import java.lang.foreign.Arena;
import java.util.function.IntToDoubleFunction;

/**
 * One benchmarkable CPU op at one shape, with {@code sets} rotated input sets (run {@code i} uses set
 * {@code i % sets}, so the working set exceeds the caches for memory-bound ops). Owns its inputs: close it.
 */
public final class OpCase implements AutoCloseable {

    /**
     * What is measured.
     *
     * @param name   unique id, e.g. {@code gemv.bf16.18944x3584}
     * @param family op family (the JMH class that runs it)
     * @param op     backend op name
     * @param shape  human-readable shape with the model it comes from
     * @param bound  which ceiling it is judged against
     * @param bytes  bytes one run must move (inputs read once, outputs written once)
     * @param flops  floating-point operations of one run (an FMA counts 2)
     */
    public record Info(String name, String family, String op, String shape, Bound bound, double bytes, double flops) {}

    private final Info info;
    private final Arena arena;
    private final int sets;
    private final IntToDoubleFunction body;

    /** {@code body(set)} runs the op on one input set and returns one value of what it wrote. */
    OpCase(Info info, Arena arena, int sets, IntToDoubleFunction body) {
        if (sets < 1) throw new IllegalArgumentException(info.name() + ": sets must be >= 1, got " + sets);
        this.info = info;
        this.arena = arena;
        this.sets = sets;
        this.body = body;
    }

    public Info info() {
        return info;
    }

    public int sets() {
        return sets;
    }

    /**
     * Runs the op once on input set {@code run % sets}; returns one value of its output (for a JMH
     * {@code Blackhole}, so that nothing the op computes is dead).
     */
    public double run(int run) {
        return body.applyAsDouble(Math.floorMod(run, sets));
    }

    @Override
    public void close() {
        arena.close();
    }
}

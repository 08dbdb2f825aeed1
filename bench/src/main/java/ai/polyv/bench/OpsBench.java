package ai.polyv.bench;

import ai.polyv.core.backend.CpuBackend;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** {@code polyv bench ops}: every {@link CpuOpCases} case timed in plain Java against the measured ceilings. */
public final class OpsBench {
    private OpsBench() {}

    /**
     * One timed op.
     *
     * @param rate     achieved GB/s (memory-bound) or GFLOP/s (compute-bound)
     * @param unit     {@code GB/s} or {@code GFLOP/s}
     * @param fraction rate over the matching ceiling
     */
    public record Result(String name, String op, String shape, Bound bound, int sets, Timing.Stats stats, double bytes,
                         double flops, double gbPerSecond, double gflopPerSecond, double rate, String unit, double fraction) {

        public static Result of(OpCase.Info info, int sets, Timing.Stats stats, Ceilings c) {
            double s = stats.medianSeconds();
            double gbs = Roofline.gbPerSecond(info.bytes(), s), gfs = Roofline.gflopPerSecond(info.flops(), s);
            boolean mem = info.bound() == Bound.MEMORY;
            return new Result(info.name(), info.op(), info.shape(), info.bound(), sets, stats, info.bytes(), info.flops(), gbs, gfs,
                    mem ? gbs : gfs, mem ? "GB/s" : "GFLOP/s", Roofline.fraction(info.bound(), info.bytes(), info.flops(), s, c));
        }
    }

    /** The whole report ({@code --json}). */
    public record Report(String benchmark, MachineInfo machine, Ceilings ceilings, boolean quick, List<Result> results,
                         Ceilings ceilingsAtEnd, double loadAtEnd) {}

    private static volatile double sink;

    /** Times the named cases ({@code null}: all) and returns the report; progress lines go to {@code log}. */
    public static Report run(CpuBackend be, List<String> names, boolean quick, PrintStream log) {
        MachineInfo machine = MachineInfo.current();
        log.println("machine: " + machine.describe());
        log.println("measuring ceilings...");
        Ceilings c = Ceilings.measure(be.threads(), quick);
        log.println(c.describe());
        long rotate = quick ? CpuOpCases.QUICK_ROTATE_BYTES : CpuOpCases.DEFAULT_ROTATE_BYTES;
        Timing.Plan plan = Timing.Plan.standard(quick);
        List<Result> results = new ArrayList<>();
        List<String> todo = names == null ? CpuOpCases.names() : names;
        int i = 0;
        for (String name : todo) {
            log.printf("[%d/%d] %s ...%n", ++i, todo.size(), name);
            try (OpCase oc = CpuOpCases.create(name, be, rotate)) {
                Timing.Stats st = Timing.run(plan, r -> sink += oc.run(r));
                results.add(Result.of(oc.info(), oc.sets(), st, c));
            }
        }
        // a second ceiling measurement shows how much the machine's load moved during the run
        Ceilings end = Ceilings.measure(be.threads(), true);
        return new Report("ops", machine, c, quick, results, end, MachineInfo.loadAverage());
    }

    public static String table(Report r) {
        Table t = new Table("op", "shape", "median ms", "min ms", "runs", "sets", "achieved", "unit", "of ceiling");
        for (Result x : r.results()) {
            t.row(x.name(), x.shape(), Table.num(x.stats().medianMs(), 3), Table.num(x.stats().minMs(), 3), x.stats().runs(), x.sets(),
                    Table.num(x.rate(), 1), x.unit(), String.format("%.0f%% %s", 100 * x.fraction(), x.bound() == Bound.MEMORY ? "copy" : "FMA"));
        }
        return t.render();
    }
}

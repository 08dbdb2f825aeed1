package ai.polyv.bench.cuda;

import ai.polyv.bench.Bound;
import ai.polyv.bench.MachineInfo;
import ai.polyv.bench.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The rows of {@code polyv bench kernels}: both GPU benchmarks ({@link CudaKernelBench}, every backend op;
 * {@code KernelBench}, the four PolyV kernels alone) add their timings here, and each row is judged against the
 * ceilings measured in the same run ({@link GpuCeilings}) and, where docs/gpu.md has one, the PyTorch median on the
 * same shape.
 */
public final class GpuResults {

    /**
     * One timed kernel or op.
     *
     * @param name       {@code kernel @ shape}, unique in a run (the chart's label)
     * @param bound      the larger of its two floors: memory (bytes / copy bandwidth) or compute (flops / GEMM peak)
     * @param rate       achieved GB/s (memory-bound) or TFLOP/s (compute-bound)
     * @param fraction   roofline floor over the median (1 = at the roofline)
     * @param pytorchMs  docs/gpu.md's PyTorch median for this op and shape, or null
     * @param vsPytorch  {@code pytorchMs / medianMs} (above 1: faster than PyTorch), or null
     */
    public record Row(String name, String kernel, String shape, double medianMs, double bytes, double flops, boolean bf16, Bound bound,
                      double rate, String unit, double floorMs, double fraction, Double pytorchMs, Double vsPytorch) {}

    /** The whole report ({@code --json}). */
    public record Report(String benchmark, String device, MachineInfo machine, GpuCeilings ceilings, int reps, List<Row> results,
                         Map<String, String> kernelOrigins) {}

    /**
     * PyTorch on the lent H100 (docs/gpu.md, bf16, the same shapes), keyed by what a row measures and
     * its token count. Only these five were measured there.
     */
    public enum PytorchReference {
        ROUTER(Map.of(4096, 0.052)),
        PERMUTE(Map.of(4096, 0.32)),
        EXPERTS(Map.of(1, 0.33, 256, 0.77, 4096, 5.65)),
        COMBINE(Map.of(4096, 0.48)),
        WINDOW_ATTENTION_5184(Map.of(5184, 0.036));

        private final Map<Integer, Double> msByTokens;

        PytorchReference(Map<Integer, Double> msByTokens) {
            this.msByTokens = msByTokens;
        }

        public OptionalDouble at(int tokens) {
            Double v = msByTokens.get(tokens);
            return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
        }
    }

    private final GpuCeilings ceilings;
    private final List<Row> rows = new ArrayList<>();

    public GpuResults(GpuCeilings ceilings) {
        this.ceilings = ceilings;
    }

    public GpuCeilings ceilings() {
        return ceilings;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** Adds a row without a PyTorch reference. */
    public Row add(String kernel, String shape, double medianMs, double bytes, double flops, boolean bf16) {
        return add(kernel, shape, medianMs, bytes, flops, bf16, OptionalDouble.empty());
    }

    public Row add(String kernel, String shape, double medianMs, double bytes, double flops, boolean bf16, OptionalDouble pytorchMs) {
        Row r = row(ceilings, kernel, shape, medianMs, bytes, flops, bf16, pytorchMs);
        rows.add(r);
        return r;
    }

    /** The roofline arithmetic of one row (public for tests). */
    public static Row row(GpuCeilings c, String kernel, String shape, double medianMs, double bytes, double flops, boolean bf16,
                          OptionalDouble pytorchMs) {
        if (!(medianMs > 0)) throw new IllegalArgumentException(kernel + " @ " + shape + ": median must be positive, got " + medianMs + " ms");
        double memMs = bytes / (c.copyGBs() * 1e9) * 1e3, compMs = flops / ((bf16 ? c.bf16Tflops() : c.fp32Tflops()) * 1e12) * 1e3;
        Bound bound = compMs > memMs ? Bound.COMPUTE : Bound.MEMORY;
        double floorMs = Math.max(memMs, compMs), sec = medianMs * 1e-3;
        double rate = bound == Bound.MEMORY ? bytes / sec / 1e9 : flops / sec / 1e12;
        Double ref = pytorchMs.isPresent() ? pytorchMs.getAsDouble() : null;
        return new Row(kernel + " @ " + shape, kernel, shape, medianMs, bytes, flops, bf16, bound, rate,
                bound == Bound.MEMORY ? "GB/s" : "TFLOP/s", floorMs, floorMs / medianMs, ref, ref == null ? null : ref / medianMs);
    }

    public static String table(List<Row> rows) {
        Table t = new Table("kernel", "shape", "median ms", "achieved", "unit", "of roofline", "ceiling", "PyTorch ms", "PyTorch / ours");
        for (Row r : rows) {
            t.row(r.kernel(), r.shape(), Table.num(r.medianMs(), 4), Table.num(r.rate(), r.bound() == Bound.MEMORY ? 0 : 1), r.unit(),
                    String.format("%.0f%%", 100 * r.fraction()), r.bound() == Bound.MEMORY ? "copy" : (r.bf16() ? "bf16 GEMM" : "fp32 GEMM"),
                    r.pytorchMs() == null ? "-" : Table.num(r.pytorchMs(), 3), r.vsPytorch() == null ? "-" : String.format("%.2fx", r.vsPytorch()));
        }
        return t.render();
    }
}

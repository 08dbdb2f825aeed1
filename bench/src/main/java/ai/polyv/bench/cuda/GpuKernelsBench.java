package ai.polyv.bench.cuda;

import ai.polyv.bench.MachineInfo;
import ai.polyv.cuda.CudaBackend;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code polyv bench kernels}: every CUDA op of the backend ({@link CudaKernelBench}, fp32 and bf16 with the
 * fused PolyV paths) and the four PolyV kernels alone ({@link KernelBench}), CUDA-event timed, in one table
 * against the ceilings measured at the start of the same run ({@link GpuCeilings}) and docs/gpu.md's PyTorch medians.
 */
public final class GpuKernelsBench {
    private GpuKernelsBench() {}

    /** {@code ops}: the fp32 backend's ops; {@code fused}: the bf16 backend (bf16 GEMM, fused router/experts/attention); then KernelBench's groups. */
    public static final List<String> GROUPS = Stream.concat(Stream.of("ops", "fused"), KernelBench.GROUPS.stream()).toList();

    /** The groups to run: all when {@code only} is null or empty; an unknown name is an error naming the valid ones. */
    public static List<String> groups(List<String> only) {
        if (only == null || only.isEmpty()) return GROUPS;
        for (String g : only) {
            if (!GROUPS.contains(g)) throw new IllegalArgumentException("--only: unknown group '" + g + "' (expected some of " + GROUPS + ")");
        }
        return List.copyOf(only);
    }

    public static GpuResults.Report run(List<String> only, int reps, PrintStream log) {
        GpuCeilings.refuseEmulated();
        List<String> groups = groups(only);
        if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
        MachineInfo machine = MachineInfo.current();
        GpuResults sink;
        String device;
        TreeMap<String, String> origins = new TreeMap<>();
        try (CudaBackend f32 = CudaBackend.open(CudaBackend.Precision.F32)) {
            device = f32.context().info().toString();
            log.println("device: " + device + "; measuring ceilings (device copy 1 GiB, cuBLAS GEMM 8192^3 bf16 and fp32) ...");
            sink = new GpuResults(GpuCeilings.measure(f32));
            log.println(sink.ceilings().describe());
            if (groups.contains("ops")) {
                log.println("backend ops (fp32) ...");
                CudaKernelBench.run(f32, reps, sink);
            }
            f32.kernels().origins().forEach((op, o) -> origins.put(op, o.name()));
        }
        try (CudaBackend bf16 = CudaBackend.open(CudaBackend.Precision.BF16)) {
            if (groups.contains("fused")) {
                log.println("backend ops (bf16, fused PolyV paths) ...");
                CudaKernelBench.run(bf16, reps, sink);
            }
            List<String> kernelGroups = new ArrayList<>(groups);
            kernelGroups.retainAll(KernelBench.GROUPS);
            if (!kernelGroups.isEmpty()) {
                log.println("PolyV kernels alone " + kernelGroups + " ...");
                bf16.synchronize();                             // the backend's stream idle; KernelBench uses the default stream of this context
                KernelBench.run(bf16.kernels(), 10, reps, kernelGroups, sink);
            }
            bf16.kernels().origins().forEach((op, o) -> origins.put(op, o.name()));
        }
        return new GpuResults.Report("kernels", device, machine, sink.ceilings(), reps, sink.rows(), origins);
    }
}

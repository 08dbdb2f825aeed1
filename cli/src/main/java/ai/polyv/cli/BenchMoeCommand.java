package ai.polyv.cli;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.bench.BenchJson;
import ai.polyv.bench.Ceilings;
import ai.polyv.bench.MoeBench;
import ai.polyv.cuda.CudaBackend;
import ai.polyv.bench.cuda.CudaStageClock;
import ai.polyv.bench.cuda.GpuCeilings;
import ai.polyv.loader.safetensors.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code polyv bench moe}: the MoE layer stage by stage against its memory and compute floors. */
@Command(name = "moe", mixinStandardHelpOptions = true,
        description = "Time the MoE FFN stage by stage (router, permute, experts, combine) and as a whole, against the memory floor "
                + "(expert weights read once / measured copy bandwidth) and the compute floor (2*tokens*topk*3*hidden*ffn / measured FMA peak).")
final class BenchMoeCommand implements Callable<Integer> {
    @Option(names = "--tokens", split = ",", paramLabel = "N", defaultValue = "1,16,256,4096,16384",
            description = "token counts (default: ${DEFAULT-VALUE}; on CPU the large ones are skipped by --max-seconds)")
    List<Integer> tokens;

    @Option(names = "--hidden", defaultValue = "3584", description = "model width (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--ffn", defaultValue = "18944", description = "expert FFN width (default: ${DEFAULT-VALUE})")
    int ffn;

    @Option(names = "--experts", defaultValue = "4", description = "experts (default: ${DEFAULT-VALUE})")
    int experts;

    @Option(names = "--topk", defaultValue = "2", description = "experts per token (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--backend", defaultValue = "cpu", description = "cpu, cuda (fp32) or cuda-bf16 (fused PolyV kernels) (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--dtype", defaultValue = "bf16", description = "weight dtype, bf16 or f32 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--max-seconds", defaultValue = "60",
            description = "time budget per token count; counts predicted to need more are skipped with a note (default: ${DEFAULT-VALUE})")
    double maxSeconds;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
    Path json;

    @Override
    public Integer call() {
        int[] counts = validTokens(tokens);
        if (!(maxSeconds > 0)) throw new IllegalArgumentException("--max-seconds must be positive, got " + maxSeconds);
        DType weights = parseDtype(dtype);
        if (backend.equals("cuda")) weights = DType.F32;            // the fp32 CUDA backend holds every weight as F32
        MoeBench.Shape shape = new MoeBench.Shape(hidden, ffn, experts, topK, weights);
        try (Backend be = Backend.named(backend)) {
            if (be instanceof CudaBackend cuda) return gpu(cuda, shape, counts);
            if (!(be instanceof CpuBackend cpu)) throw new IllegalArgumentException("bench moe: no ceilings for backend " + be.name());
            System.err.println("measuring ceilings...");
            Ceilings c = Ceilings.measure(cpu.threads(), false);
            System.err.println(c.describe());
            MoeBench.Report r = MoeBench.run(be, c, shape, counts, maxSeconds, System.err);
            System.out.println(c.describe());
            System.out.printf("moe: hidden %d, ffn %d, %d experts, top-%d, %s weights, backend %s%n", hidden, ffn, experts, topK,
                    shape.dtype(), be.name());
            System.out.print(MoeBench.table(r));
            if (json != null) {
                BenchJson.write(json, r);
                System.err.println("wrote " + json);
            }
        }
        return 0;
    }

    /** The same stages on a CUDA backend, CUDA-event timed, against the GPU ceilings measured now; plus the fused layer. */
    private int gpu(CudaBackend cuda, MoeBench.Shape shape, int[] counts) {
        System.err.println("measuring GPU ceilings...");
        GpuCeilings g = GpuCeilings.measure(cuda);
        System.err.println(g.describe());
        Ceilings c = g.asCeilings(cuda.precision() == CudaBackend.Precision.BF16);
        MoeBench.Report r;
        try (CudaStageClock clock = new CudaStageClock(cuda.stream())) {
            r = MoeBench.run(cuda, c, shape, counts, maxSeconds, System.err, clock, true);
        }
        System.out.println("device: " + cuda.context().info() + "; " + g.describe());
        System.out.printf("moe: hidden %d, ffn %d, %d experts, top-%d, %s weights on the device, backend %s (CUDA events)%n", hidden, ffn, experts,
                topK, shape.dtype(), cuda.name());
        System.out.print(MoeBench.table(r));
        if (json != null) {
            BenchJson.write(json, new GpuMoeReport("moe-gpu", cuda.context().info().toString(), g, r));
            System.err.println("wrote " + json);
        }
        return 0;
    }

    /** {@code --json} of a GPU run: the MoE report (its {@code ceilings} are {@link GpuCeilings#asCeilings}) and the measured GPU ceilings. */
    record GpuMoeReport(String benchmark, String device, GpuCeilings gpuCeilings, MoeBench.Report moe) {}

    static int[] validTokens(List<Integer> tokens) {
        if (tokens == null || tokens.isEmpty()) throw new IllegalArgumentException("--tokens needs at least one token count");
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) {
            int t = tokens.get(i);
            if (t < 1) throw new IllegalArgumentException("--tokens: every count must be >= 1, got " + t);
            out[i] = t;
        }
        return out;
    }

    static DType parseDtype(String s) {
        return switch (s.toLowerCase()) {
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16 or f32, got '" + s + "'");
        };
    }
}

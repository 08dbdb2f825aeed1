package ai.polyv.cli;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.bench.BenchJson;
import ai.polyv.bench.OpsBench;
import ai.polyv.bench.PerfChart;
import ai.polyv.bench.cuda.E2eBench;
import ai.polyv.bench.cuda.GpuKernelsBench;
import ai.polyv.bench.cuda.GpuResults;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv bench}: plain-Java benchmarks that print a table and, with {@code --json}, write the same
 * numbers as JSON. Every speed is shown next to this machine's ceilings, measured in the same run
 * ({@link ai.polyv.bench.Ceilings}). The JMH microbenchmarks are {@code ./polyv jmh}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks against measured ceilings: ops (CPU ops), moe (MoE layer stage by stage), decode (tokens/s), train (one training step), "
                + "tokenizer (polyv vs HF tokenizers), serve (load test of a running server), kernels and e2e (CUDA), chart (PNG of the fractions of the roofline). Prints a table; --json FILE writes JSON.",
        subcommands = {
                BenchCommand.Ops.class,
                BenchMoeCommand.class,
                BenchDecodeCommand.class,
                BenchTrainCommand.class,
                BenchCommand.Kernels.class,
                BenchCommand.E2e.class,
                BenchCommand.Chart.class,
                TokenizerBenchCommand.class,
                BenchServeCommand.class,
        })
public final class BenchCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    @Command(name = "ops", mixinStandardHelpOptions = true,
            description = "Time every CPU op (median of many runs, rotated inputs) against the measured copy bandwidth and FMA peak.")
    static final class Ops implements Callable<Integer> {
        @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
        Path json;

        @Option(names = "--quick", description = "fewer runs and smaller rotated working sets (a smoke run; numbers flatter memory-bound ops)")
        boolean quick;

        @Option(names = "--only", split = ",", paramLabel = "CASE", description = "only these cases (names as printed in the table)")
        java.util.List<String> only;

        @Override
        public Integer call() {
            try (CpuBackend be = new CpuBackend()) {
                OpsBench.Report r = OpsBench.run(be, only, quick, System.err);
                System.out.println(r.ceilings().describe());
                System.out.print(OpsBench.table(r));
                System.out.printf("load average %.2f at start, %.2f at end; ceilings at end: %s%n", r.machine().loadAtStart(), r.loadAtEnd(),
                        r.ceilingsAtEnd().describe());
                if (json != null) {
                    BenchJson.write(json, r);
                    System.err.println("wrote " + json);
                }
            }
            return 0;
        }
    }

    /** GPU kernel benchmarks: every CUDA op and the four PolyV kernels against the ceilings measured in the same run. */
    @Command(name = "kernels", mixinStandardHelpOptions = true,
            description = "CUDA kernel benchmarks (every backend op in fp32 and bf16, the four PolyV kernels alone; CUDA events, medians) against "
                    + "the device copy bandwidth and cuBLAS bf16 GEMM 8192^3 measured in the same run, with docs/gpu.md's PyTorch medians.")
    static final class Kernels implements Callable<Integer> {
        @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
        Path json;

        @Option(names = "--only", split = ",", paramLabel = "GROUP", description = "only these groups: ops, fused, router, permutation, experts, attention")
        java.util.List<String> only;

        @Option(names = "--reps", defaultValue = "30", description = "timed runs per case, median reported (default: ${DEFAULT-VALUE})")
        int reps;

        @Override
        public Integer call() {
            GpuKernelsBench.groups(only);                       // bad names fail before CUDA is touched
            if (reps < 1) throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
            GpuResults.Report r = GpuKernelsBench.run(only, reps, System.err);
            System.out.println("device: " + r.device());
            System.out.println(r.ceilings().describe());
            System.out.print(GpuResults.table(r.results()));
            if (json != null) {
                BenchJson.write(json, r);
                System.err.println("wrote " + json);
            }
            return 0;
        }
    }

    /** End-to-end on the GPU: the real-size model with random weights made on the device. */
    @Command(name = "e2e", mixinStandardHelpOptions = true,
            description = "End-to-end on the GPU with random BF16 weights made on the device (no file, no host copy): image prefill latency "
                    + "(448x448 image + 37 text tokens), vision encoder time, greedy decode tokens/s against the decode memory roofline.")
    static final class E2e implements Callable<Integer> {
        @Option(names = "--config", defaultValue = "polyv-7b", description = "polyv-7b (docs/spec.md) or mid (default: ${DEFAULT-VALUE})")
        String config;

        @Option(names = "--random-weights", description = "random weights made on the device (required: the only weight source of this benchmark)")
        boolean randomWeights;

        @Option(names = "--backend", defaultValue = "cuda-bf16", description = "cuda (fp32) or cuda-bf16 (default: ${DEFAULT-VALUE})")
        String backend;

        @Option(names = "--batch", split = ",", defaultValue = "1,8", paramLabel = "N",
                description = "decode batch sizes, comma-separated: B image prompts decoded together (default: ${DEFAULT-VALUE})")
        java.util.List<Integer> batch;

        @Option(names = "--tokens", defaultValue = "32", description = "greedy decode steps timed (default: ${DEFAULT-VALUE})")
        int tokens;

        @Option(names = "--runs", defaultValue = "3", description = "timed prefills after one warm-up (default: ${DEFAULT-VALUE})")
        int runs;

        @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
        Path json;

        E2eBench.Options options() {
            return new E2eBench.Options(config, randomWeights, backend, batch, tokens, runs);
        }

        @Override
        public Integer call() {
            E2eBench.Options o = options();                    // bad arguments fail before CUDA is touched
            E2eBench.Report r = E2eBench.run(o, System.err);
            System.out.println("device: " + r.device() + "; " + r.ceilings().describe());
            System.out.println("e2e: " + r.config() + ", backend " + r.backend());
            System.out.print(E2eBench.table(r));
            if (json != null) {
                BenchJson.write(json, r);
                System.err.println("wrote " + json);
            }
            return 0;
        }
    }

    /** The roofline chart of one or more benchmark JSON files. */
    @Command(name = "chart", mixinStandardHelpOptions = true,
            description = "Draw each op's / kernel's fraction of its roofline as a horizontal bar chart (PNG) from `bench ops --json` or "
                    + "`bench kernels --json` files.")
    static final class Chart implements Callable<Integer> {
        @Option(names = "--json", split = ",", required = true, paramLabel = "FILE", description = "benchmark JSON files (comma-separated)")
        java.util.List<Path> inputs;

        @Option(names = "--out", required = true, paramLabel = "PNG", description = "the PNG to write")
        Path out;

        @Override
        public Integer call() {
            PerfChart.Chart c = PerfChart.read(inputs);
            PerfChart.write(c, out);
            System.err.println("wrote " + out + " (" + c.bars().size() + " bars)");
            return 0;
        }
    }
}

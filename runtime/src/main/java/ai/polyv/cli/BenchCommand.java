package ai.polyv.cli;

import ai.polyv.runtime.backend.Backend;
import ai.polyv.runtime.backend.CpuBackend;
import ai.polyv.runtime.bench.BenchJson;
import ai.polyv.runtime.bench.OpsBench;
import ai.polyv.tokenizer.cli.TokenizerBenchCommand;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv bench}: plain-Java benchmarks that print a table and, with {@code --json}, write the same
 * numbers as JSON. Every speed is shown next to this machine's ceilings, measured in the same run
 * ({@link ai.polyv.runtime.bench.Ceilings}). The JMH microbenchmarks are {@code ./polyv jmh}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks against measured ceilings: ops (CPU ops), moe (MoE layer stage by stage), decode (tokens/s), "
                + "tokenizer (polyv vs HF tokenizers), kernels and e2e (CUDA). Prints a table; --json FILE writes JSON.",
        subcommands = {
                BenchCommand.Ops.class,
                BenchMoeCommand.class,
                BenchDecodeCommand.class,
                BenchCommand.Kernels.class,
                BenchCommand.E2e.class,
                TokenizerBenchCommand.class,
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

    /** GPU kernel benchmarks: need the CUDA backend (another helper's work). */
    @Command(name = "kernels", mixinStandardHelpOptions = true,
            description = "CUDA kernel benchmarks against the GPU's measured ceilings (needs the CUDA backend).")
    static final class Kernels implements Callable<Integer> {
        @Override
        public Integer call() {
            requireCuda("kernels");
            throw new UnsupportedOperationException("bench kernels: the CUDA kernel benchmarks are not written yet");
        }
    }

    /** End-to-end GPU benchmarks: need the CUDA backend. */
    @Command(name = "e2e", mixinStandardHelpOptions = true,
            description = "End-to-end prefill/decode on the GPU (needs the CUDA backend).")
    static final class E2e implements Callable<Integer> {
        @Override
        public Integer call() {
            requireCuda("e2e");
            throw new UnsupportedOperationException("bench e2e: the end-to-end GPU benchmark is not written yet");
        }
    }

    /**
     * Opens and closes the CUDA backend so that its own reason for being unavailable reaches the user; the
     * UnsupportedOperationException it throws becomes one line on stderr and exit 2 (see {@link Main}).
     */
    static void requireCuda(String what) {
        try (Backend be = Backend.cuda()) {
            be.name();
        }
    }
}

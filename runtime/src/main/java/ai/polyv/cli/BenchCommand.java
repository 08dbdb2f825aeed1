package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: cpu ops, kernels, moe, e2e (prints a table, writes JSON).")
public final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv bench: not implemented yet (Benchmarks: cpu ops, kernels, moe, e2e (prints a table, writes JSON).)");
        return 1;
    }
}

package ai.polyv.cli;

import ai.polyv.tokenizer.cli.TokenizerBenchCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        subcommands = {TokenizerBenchCommand.class},   // temporary (branch found): the bench owner registers the rest
        description = "Benchmarks: cpu ops, kernels, moe, e2e (prints a table, writes JSON).")
public final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv bench: not implemented yet (Benchmarks: cpu ops, kernels, moe, e2e (prints a table, writes JSON).)");
        return 1;
    }
}

package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Run the golden cases of a reference folder and compare every tensor (exit 1 on mismatch).")
public final class VerifyCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv verify: not implemented yet (Run the golden cases of a reference folder and compare every tensor (exit 1 on mismatch).)");
        return 1;
    }
}

package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run image + text through the whole PolyV pipeline on an embedded small model (no downloads).")
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv demo: not implemented yet (Run image + text through the whole PolyV pipeline on an embedded small model (no downloads).)");
        return 1;
    }
}

package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "upcycle", mixinStandardHelpOptions = true,
        description = "Build a PolyV MoE checkpoint from a Qwen2.5-VL checkpoint and expert donors.")
public final class UpcycleCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv upcycle: not implemented yet (Build a PolyV MoE checkpoint from a Qwen2.5-VL checkpoint and expert donors.)");
        return 1;
    }
}

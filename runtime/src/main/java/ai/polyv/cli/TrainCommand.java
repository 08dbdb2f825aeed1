package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune routers, experts and alignment heads from an Arrow IPC dataset.")
public final class TrainCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv train: not implemented yet (Fine-tune routers, experts and alignment heads from an Arrow IPC dataset.)");
        return 1;
    }
}

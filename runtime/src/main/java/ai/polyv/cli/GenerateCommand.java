package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt with optional images, video and 3D scenes, streaming.")
public final class GenerateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("polyv generate: not implemented yet (Generate text from a prompt with optional images, video and 3D scenes, streaming.)");
        return 1;
    }
}

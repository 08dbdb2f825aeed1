package ai.polyv.spark;

import picocli.CommandLine;

/**
 * The main class for {@code spark-submit}: the same subcommands as {@code polyv spark}
 * ({@code generate}, {@code train}); errors exit with status 2 and one line on stderr.
 */
public final class SparkMain {
    private SparkMain() {}

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new SparkCommand());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("polyv spark " + cmd.getCommandName() + ": " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage()));
            if (System.getenv("POLYV_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        int status = cli.execute(args);
        if (status != 0) System.exit(status);
    }
}

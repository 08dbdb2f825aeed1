package ai.polyv.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code polyv} command line. Every subcommand is listed here; {@code test}, {@code build} and
 * {@code jmh} are run by the {@code ./polyv} launcher itself (Maven / JMH) and only documented here.
 * Errors exit with status 2 and one line on stderr; {@code POLYV_DEBUG=1} adds the stack trace.
 */
@Command(name = "polyv", mixinStandardHelpOptions = true, version = "polyv 0.1.0",
        description = "Java runtime for PolyV: inference, verification, fine-tuning and benchmarks.",
        subcommands = {
                DemoCommand.class,
                GenerateCommand.class,
                ServeCommand.class,
                VerifyCommand.class,
                InspectCommand.class,
                TokenizeCommand.class,
                TrainCommand.class,
                DatasetCommand.class,
                UpcycleCommand.class,
                ai.polyv.spark.SparkCommand.class,
                BenchCommand.class,
                Main.TestInfo.class,
                Main.BuildInfo.class,
                Main.JmhInfo.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status (used by tests too). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String name = cmd.getCommandName();
            String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            cmd.getErr().println("polyv " + name + ": " + msg);
            if (System.getenv("POLYV_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("polyv: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return 2;
        });
        return cli.execute(args);
    }

    @Command(name = "test", description = "Run the whole test suite (Maven; run as ./polyv test).")
    static final class TestInfo extends LauncherOnly {}

    @Command(name = "build", description = "Build the project jars (Maven; run as ./polyv build).")
    static final class BuildInfo extends LauncherOnly {}

    @Command(name = "jmh", description = "Run the JMH microbenchmarks, JMH arguments follow (run as ./polyv jmh).")
    static final class JmhInfo extends LauncherOnly {}

    abstract static class LauncherOnly implements Callable<Integer> {
        @Override
        public Integer call() {
            System.err.println("this subcommand is run by the ./polyv launcher script, not by the JVM");
            return 2;
        }
    }
}

package ai.polyv.spark;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code polyv spark}: polyv jobs on Apache Spark. Run as {@code ./polyv spark ...} (the launcher puts Spark's jars
 * on the classpath for this subcommand only) or through {@code spark-submit --class ai.polyv.spark.SparkMain}.
 */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = "Batch inference and data-parallel fine-tuning on Apache Spark (run as ./polyv spark, or with spark-submit).",
        subcommands = {SparkGenerateCommand.class, SparkTrainCommand.class, CommandLine.HelpCommand.class})
public final class SparkCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** The error when a Spark class is missing: how to get Spark on the classpath. */
    static RuntimeException noSpark(NoClassDefFoundError e) {
        String m = String.valueOf(e.getMessage());
        if (!m.startsWith("org/apache/spark") && !m.startsWith("scala/")) throw e;
        return new IllegalStateException("Apache Spark is not on the classpath (" + m + "): run ./polyv spark ... (the launcher adds the jars "
                + "listed in spark/target/spark-classpath.txt) or spark-submit --class ai.polyv.spark.SparkMain");
    }
}

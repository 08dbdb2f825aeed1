package ai.polyv.spark;

import org.apache.spark.sql.SparkSession;

/**
 * The Spark sessions of the CLI and the tests. A {@code local[...]} master binds the driver to the loopback interface
 * and turns the web UI off (nothing listens on the network); any other master (or none: {@code spark-submit} sets it)
 * takes Spark's own configuration.
 */
public final class SparkSessions {
    private SparkSessions() {}

    /** A session for {@code master} ({@code null}: the one {@code spark-submit} configured). */
    public static SparkSession open(String master, String app) {
        SparkSession.Builder b = SparkSession.builder().appName(app);
        if (master != null) {
            b.master(master);
            if (master.startsWith("local")) {
                b.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false")
                        .config("spark.sql.shuffle.partitions", "2");
            }
        }
        SparkSession s = b.getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }
}

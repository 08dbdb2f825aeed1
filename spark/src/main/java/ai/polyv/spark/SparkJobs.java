package ai.polyv.spark;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark side of the {@code polyv spark} commands (the picocli classes never touch a Spark type, so the normal CLI
 * loads without Spark on its classpath).
 */
final class SparkJobs {
    private SparkJobs() {}

    /** What a generate job did; {@code loads}: models loaded in this (driver) JVM, which runs the tasks in local mode. */
    record Summary(int requests, int failed, long tokens, double seconds, int loads) {}

    /** {@code polyv spark generate}: a batch file ({@code in} not null) or a dataset, in a session of its own. */
    static Summary generate(String master, Path in, Path out, String input, String output, String format, GenerateOptions o, int partitions) {
        return inSession(master, "polyv spark generate", s -> in != null ? generateFile(s, in, out, o, partitions)
                : generateDataset(s, input, output, format, o));
    }

    /** {@code polyv spark train} in a session of its own. */
    static List<SparkTrainer.Step> train(String master, int ranks, SparkTrainer.Job job) {
        return inSession(master, "polyv spark train", s -> SparkTrainer.train(s, ranks, job));
    }

    /** Runs {@code job} in a session for {@code master} ({@code null}: spark-submit's), stopped afterwards. */
    static <T> T inSession(String master, String app, java.util.function.Function<SparkSession, T> job) {
        SparkSession s = SparkSessions.open(master, app);
        try {
            return job.apply(s);
        } finally {
            s.stop();
        }
    }

    /**
     * {@code --batch-file IN --out OUT}: each non-blank line of IN a request, its line number the id; OUT gets one line
     * per request in IN's order (the format of {@code polyv generate --batch-file}, plus {@code error} for a request
     * that failed), written atomically when all are done.
     */
    static Summary generateFile(SparkSession s, Path in, Path out, GenerateOptions o, int partitions) {
        PathChecks.regularFile("batch file", in);
        {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(s.sparkContext());
            int parts = partitions > 0 ? partitions : sc.defaultParallelism();
            long t0 = System.nanoTime();
            JavaRDD<RequestRow> rows = sc.textFile(in.toAbsolutePath().toUri().toString(), parts).zipWithIndex()
                    .filter(t -> !t._1().isBlank()).map(t -> new RequestRow(String.valueOf(t._2() + 1), t._1()));
            List<ResultRow> results = new ArrayList<>(SparkGenerate.run(rows, o).collect());
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (results.isEmpty()) throw new IllegalArgumentException("batch file " + in + " holds no request");
            results.sort(Comparator.comparingLong(r -> Long.parseLong(r.id())));
            write(out, results);
            return summary(results, seconds);
        }
    }

    /** {@code --input --output}: a JSON-lines or Parquet dataset of requests to one of results ({@link PolyVSpark}). */
    static Summary generateDataset(SparkSession s, String input, String output, String format, GenerateOptions o) {
        {
            long t0 = System.nanoTime();
            Dataset<Row> results = PolyVSpark.generate(s.read().format(format).load(input), o).cache();
            results.write().format(format).save(output);
            List<ResultRow> rows = results.select("id", "completion_tokens", "error").collectAsList().stream()
                    .map(r -> new ResultRow(r.getString(0), null, null, 0, r.getInt(1), null, 0, 0, r.getString(2))).toList();
            return summary(rows, (System.nanoTime() - t0) / 1e9);
        }
    }

    private static Summary summary(List<ResultRow> results, double seconds) {
        long tokens = results.stream().mapToLong(ResultRow::completionTokens).sum();
        int failed = (int) results.stream().filter(r -> r.error() != null).count();
        return new Summary(results.size(), failed, tokens, seconds, ModelHolder.loads());
    }

    /** The result lines: {@code line}, then {@code text ids prompt_tokens stop prefill_ms decode_ms}, or {@code error}. */
    static void write(Path out, List<ResultRow> results) {
        ObjectMapper json = new ObjectMapper();
        try {
            AtomicFiles.write(out, ch -> {
                OutputStream os = Channels.newOutputStream(ch);
                try (JsonGenerator g = json.getFactory().createGenerator(os)) {
                    g.setRootValueSeparator(null);
                    g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);   // AtomicFiles forces and closes the channel
                    for (ResultRow r : results) {
                        g.writeStartObject();
                        g.writeNumberField("line", Long.parseLong(r.id()));
                        if (r.error() != null) {
                            g.writeStringField("error", r.error());
                        } else {
                            g.writeStringField("text", r.text());
                            g.writeFieldName("ids");
                            g.writeArray(r.ids(), 0, r.ids().length);
                            g.writeNumberField("prompt_tokens", r.promptTokens());
                            g.writeStringField("stop", r.stop());
                            g.writeNumberField("prefill_ms", r.prefillMs());
                            g.writeNumberField("decode_ms", r.decodeMs());
                        }
                        g.writeEndObject();
                        g.writeRaw('\n');
                    }
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + out + ": " + e, e);
        }
    }
}

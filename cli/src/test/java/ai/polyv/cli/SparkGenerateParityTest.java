package ai.polyv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.testsupport.SharedData;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code polyv spark generate --batch-file} and {@code polyv generate --batch-file} on the same requests write the same
 * result lines (timings aside). Spark is {@code provided} in the spark module, so it is not on this module's classpath:
 * {@code polyv generate} runs in this JVM, {@code polyv spark generate} in a JVM of its own started as
 * {@code ./polyv spark} starts it (the jars of {@code spark/target/spark-classpath.txt} before this classpath, Spark's
 * JVM flags), {@code local[2]}, two partitions.
 */
class SparkGenerateParityTest {

    static final Path TINY_A = SharedData.golden("tiny-a");
    static final Path SPARK_CP = Path.of("..", "spark", "target", "spark-classpath.txt");

    @TempDir
    Path tmp;

    @Test
    void sparkGenerateWritesTheLinesOfGenerate() throws IOException, InterruptedException {
        GoldenFile g = GoldenFile.open("tiny-a");
        int[] s = g.shape("image.image0.frames_u8");
        GenerateCommandTest.writePng(new RgbFrames(1, s[1], s[2], g.u8("image.image0.frames_u8")), tmp.resolve("cat.png"));
        String png64 = Base64.getEncoder().encodeToString(Files.readAllBytes(tmp.resolve("cat.png")));
        String text = Arrays.toString(g.i64("text.input_ids")), image = Arrays.toString(g.i64("image.input_ids"));
        Path in = tmp.resolve("requests.jsonl"), local = tmp.resolve("local.jsonl"), spark = tmp.resolve("spark.jsonl");
        Files.writeString(in, String.join("\n",
                "{\"prompt_ids\": " + text + "}",
                "{\"prompt_ids\": " + image + ", \"images\": [\"cat.png\"], \"max_new_tokens\": 3}",
                "",
                "{\"prompt_ids\": " + text + ", \"max_new_tokens\": 2, \"temperature\": 0.8, \"seed\": 7}",
                "{\"prompt_ids\": " + image + ", \"image_bytes\": [\"" + png64 + "\"], \"max_new_tokens\": 3}") + "\n");
        String[] options = {"--model", TINY_A.toString(), "--batch-file", in.toString(), "--max-new-tokens", "4", "--max-batch", "2", "--threads", "1"};

        CliRun r = CliRun.run(concat(new String[] {"generate"}, options, new String[] {"--out", local.toString()}));
        assertEquals(0, r.status(), r.err());

        assertTrue(Files.isRegularFile(SPARK_CP), SPARK_CP.toAbsolutePath() + " missing: the spark module writes it at generate-resources (mvn test -pl spark,cli -am)");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(System.getProperty("polyv.spark.jvm.flags", "").trim().split("\\s+")));
        cmd.addAll(List.of("-Xmx1g", "-Dlog4j2.level=WARN", "-cp", Files.readString(SPARK_CP).trim() + File.pathSeparator + System.getProperty("java.class.path"),
                "ai.polyv.cli.Main", "spark", "generate", "--master", "local[2]", "--partitions", "2", "--out", spark.toString()));
        cmd.addAll(Arrays.asList(options));
        Path log = tmp.resolve("spark.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("polyv spark generate did not finish in 240 s:\n" + Files.readString(log));
        }
        assertEquals(0, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("4 requests (0 failed)"), Files.readString(log));

        List<String> expected = Files.readAllLines(local).stream().map(SparkGenerateParityTest::withoutTimes).toList();
        assertEquals(4, expected.size());
        assertEquals(expected, Files.readAllLines(spark).stream().map(SparkGenerateParityTest::withoutTimes).toList());
        assertEquals(expected.get(1).replace("\"line\":2", "\"line\":5"), expected.get(3), "the image by path and by bytes");
    }

    static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }

    static String withoutTimes(String line) {
        return line.replaceAll(",\"prefill_ms\":[0-9.]+,\"decode_ms\":[0-9.]+", "");
    }
}

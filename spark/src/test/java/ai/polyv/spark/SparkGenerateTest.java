package ai.polyv.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch inference on Spark in {@code local[2]} (loopback, no UI) over tiny-a: the golden greedy ids per request, the
 * same ids as the in-process batch of {@code polyv generate --batch-file}, bad rows reported in their own result, one
 * model load per JVM.
 */
class SparkGenerateTest {
    static final Path TINY_A = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a");
    static SparkSession spark;

    @TempDir
    static Path tmp;

    static String textIds, imageIds;
    static long[] textGolden, imageGolden;

    @BeforeAll
    static void start() throws IOException {
        GoldenFile g = GoldenFile.open("tiny-a");
        int[] s = g.shape("image.image0.frames_u8");
        Files.createDirectories(tmp.resolve("in"));
        writePng(new RgbFrames(1, s[1], s[2], g.u8("image.image0.frames_u8")), tmp.resolve("in/cat.png"));
        textIds = Arrays.toString(g.i64("text.input_ids"));
        imageIds = Arrays.toString(g.i64("image.input_ids"));
        textGolden = g.i64("text.greedy_ids");
        imageGolden = g.i64("image.greedy_ids");
        spark = SparkSessions.open("local[2]", "polyv-spark-test");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        ModelHolder.closeAll();
    }

    static void writePng(RgbFrames f, Path file) throws IOException {
        BufferedImage img = new BufferedImage(f.width(), f.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < f.height(); y++) {
            for (int x = 0; x < f.width(); x++) img.setRGB(x, y, (f.get(0, y, x, 0) << 16) | (f.get(0, y, x, 1) << 8) | f.get(0, y, x, 2));
        }
        ImageIO.write(img, "png", file.toFile());
    }

    static GenerateOptions options(int maxNewTokens) {
        return GenerateOptions.of(TINY_A.toString()).withMaxNewTokens(maxNewTokens).withBatch(2, 1).withBaseDir(tmp.resolve("in").toString());
    }

    @Test
    void batchFileGivesTheGoldenIdsOfEveryRequestAndAnErrorForEachBadOneWithOneModelLoad() throws IOException {
        Path in = tmp.resolve("in/requests.jsonl"), out = tmp.resolve("out/results.jsonl");
        Files.writeString(in, String.join("\n",
                "{\"prompt_ids\": " + textIds + "}",                                                              // 1
                "",                                                                                              // 2 blank
                "{\"prompt_ids\": " + imageIds + ", \"images\": [\"cat.png\"], \"max_new_tokens\": " + imageGolden.length + "}", // 3
                "{\"prompt_ids\": [1, 99999, 3]}",                                                               // 4: outside the vocabulary (2048)
                "{\"prompt_ids\": " + textIds + ", \"max_new_tokens\": 3}",                                      // 5
                "{\"prompt_ids\": " + imageIds + ", \"images\": [\"missing.png\"]}",                             // 6: no such image
                "{\"prompt_ids\": [1, 2]",                                                                       // 7: not JSON
                "{\"prompt_ids\": " + imageIds + ", \"images\": [\"cat.png\"], \"max_new_tokens\": 2}") + "\n"); // 8
        ModelHolder.closeAll();   // the other test may have loaded tiny-a in this JVM already
        int loadsBefore = ModelHolder.loads();
        SparkJobs.Summary s = SparkJobs.generateFile(spark, in, out, options(textGolden.length), 2);
        assertEquals(1, s.loads() - loadsBefore, "one model load for the JVM, not one per task");
        assertEquals(7, s.requests());
        assertEquals(3, s.failed());

        List<String> lines = Files.readAllLines(out);
        assertEquals(7, lines.size(), String.join("\n", lines));
        ObjectMapper json = new ObjectMapper();
        int[] lineNo = {1, 3, 4, 5, 6, 7, 8};
        long[][] expected = {textGolden, imageGolden, null, Arrays.copyOf(textGolden, 3), null, null, Arrays.copyOf(imageGolden, 2)};
        String[] errors = {null, null, "99999", null, "missing.png", "not JSON", null};
        for (int i = 0; i < lines.size(); i++) {
            JsonNode o = json.readTree(lines.get(i));
            assertEquals(lineNo[i], o.get("line").asInt());
            if (errors[i] != null) {
                assertTrue(o.get("error").asText().contains(errors[i]), lines.get(i));
                assertNull(o.get("ids"));
                continue;
            }
            assertNull(o.get("error"), lines.get(i));
            assertArrayEquals(expected[i], longs(o.get("ids")), "line " + lineNo[i]);
            assertEquals("max_new_tokens", o.get("stop").asText());
        }
        assertEquals(77, json.readTree(lines.get(1)).get("prompt_tokens").asInt());

        // the same model serves a second job in this JVM: no new load
        SparkJobs.generateFile(spark, in, tmp.resolve("out/again.jsonl"), options(textGolden.length), 3);
        assertEquals(1, ModelHolder.loads() - loadsBefore);
        assertEquals(Files.readAllLines(out).stream().map(SparkGenerateTest::withoutTimes).toList(),
                Files.readAllLines(tmp.resolve("out/again.jsonl")).stream().map(SparkGenerateTest::withoutTimes).toList());
    }

    @Test
    void datasetApiGivesTheIdsOfTheInProcessBatchAndErrorRows() {
        // the reference: the valid requests as one in-process batch, as `polyv generate --batch-file` runs them
        List<GenerationRequest> reference;
        List<GenerationResult> local;
        int[] image = Arrays.stream(imageIds.replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
        int[] text = Arrays.stream(textIds.replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
        reference = List.of(GenerationRequest.builderOfIds(text).maxNewTokens(6).build(),
                GenerationRequest.builderOfIds(image).visual(new Visual.ImageFile(tmp.resolve("in/cat.png"))).maxNewTokens(4).build(),
                GenerationRequest.builderOfIds(text).maxNewTokens(5).build());
        try (PolyV p = PolyV.load(TINY_A, new CpuBackend(1))) {
            local = p.generate(reference, 2, (i, id, t) -> { });
        }
        Dataset<String> lines = spark.createDataset(List.of(
                "{\"id\": \"a\", \"prompt_ids\": " + textIds + ", \"max_new_tokens\": 6}",
                "{\"id\": \"b\", \"prompt_ids\": " + imageIds + ", \"images\": [\"cat.png\"], \"max_new_tokens\": 4}",
                "{\"id\": \"bad\", \"prompt_ids\": [5000]}",
                "{\"id\": \"c\", \"prompt_ids\": " + textIds + ", \"max_new_tokens\": 5}"), Encoders.STRING());
        Dataset<Row> requests = spark.read().json(lines).repartition(2);
        List<Row> rows = PolyVSpark.generate(requests, options(8)).collectAsList();
        assertEquals(4, rows.size());
        for (Row r : rows) {
            String id = r.getString(r.fieldIndex("id"));
            if (id.equals("bad")) {
                assertTrue(r.getString(r.fieldIndex("error")).contains("5000"), r.toString());
                continue;
            }
            int k = "abc".indexOf(id);
            List<Integer> ids = r.getList(r.fieldIndex("ids"));
            assertArrayEquals(local.get(k).ids(), ids.stream().mapToInt(Integer::intValue).toArray(), "request " + id);
            assertEquals(ids.size(), r.getInt(r.fieldIndex("completion_tokens")));
            assertNull(r.get(r.fieldIndex("error")));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PolyVSpark.generate(spark.read().json(spark.createDataset(List.of("{\"id\": 1, \"colour\": 2}"), Encoders.STRING())), options(2)));
        assertTrue(e.getMessage().contains("unknown request column \"colour\""), e.getMessage());
    }

    @Test
    void imageBytesGiveTheIdsOfTheSameImageByPathAndUndecodableBytesAnErrorRow() throws IOException {
        byte[] png = Files.readAllBytes(tmp.resolve("in/cat.png"));
        List<Integer> prompt = Arrays.stream(imageIds.replaceAll("[\\[\\] ]", "").split(",")).map(Integer::valueOf).toList();
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt_ids", DataTypes.createArrayType(DataTypes.IntegerType))
                .add("images", DataTypes.createArrayType(DataTypes.StringType)).add("image_bytes", DataTypes.createArrayType(DataTypes.BinaryType))
                .add("max_new_tokens", DataTypes.IntegerType);
        Dataset<Row> requests = spark.createDataFrame(List.of(
                RowFactory.create("path", prompt, List.of("cat.png"), null, 3),
                RowFactory.create("bytes", prompt, null, List.of(png), 3),
                RowFactory.create("junk", prompt, null, List.of("not an image".getBytes(StandardCharsets.UTF_8)), 3)), schema).repartition(2);
        Map<String, Row> byId = new HashMap<>();
        for (Row r : PolyVSpark.generate(requests, options(3)).collectAsList()) byId.put(r.getString(r.fieldIndex("id")), r);
        assertEquals(Set.of("path", "bytes", "junk"), byId.keySet());
        assertNull(byId.get("path").get(byId.get("path").fieldIndex("error")), byId.get("path").toString());
        assertArrayEquals(Arrays.copyOf(imageGolden, 3), longs(byId.get("path").getList(byId.get("path").fieldIndex("ids"))));
        assertEquals(byId.get("path").getList(byId.get("path").fieldIndex("ids")), byId.get("bytes").getList(byId.get("bytes").fieldIndex("ids")),
                byId.get("bytes").toString());
        String junk = byId.get("junk").getString(byId.get("junk").fieldIndex("error"));
        assertTrue(junk.contains("\"image_bytes\"[0]") && junk.contains("not a PNG or JPEG"), junk);

        // --input in JSON: the bytes as base64 strings (array<string>)
        Path in = tmp.resolve("in/b64.jsonl"), out = tmp.resolve("out/b64");
        Files.writeString(in, "{\"id\": \"bytes\", \"prompt_ids\": " + imageIds + ", \"image_bytes\": [\"" + Base64.getEncoder().encodeToString(png)
                + "\"], \"max_new_tokens\": 3}\n{\"id\": \"bad64\", \"prompt_ids\": " + imageIds + ", \"image_bytes\": [\"%%%\"]}\n");
        SparkJobs.Summary s = SparkJobs.generateDataset(spark, in.toString(), out.toString(), "json", options(3));
        assertEquals(2, s.requests());
        assertEquals(1, s.failed());
        for (Row r : spark.read().json(out.toString()).collectAsList()) {
            if (r.getString(r.fieldIndex("id")).equals("bytes")) {
                assertArrayEquals(Arrays.copyOf(imageGolden, 3), longs(r.getList(r.fieldIndex("ids"))), r.toString());
            } else {
                assertTrue(r.getString(r.fieldIndex("error")).contains("\"image_bytes\"[0] is not base64"), r.toString());
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolyVSpark.generate(
                spark.read().json(spark.createDataset(List.of("{\"id\": 1, \"prompt_ids\": [1], \"image_bytes\": \"abc\"}"), Encoders.STRING())), options(2)));
        assertTrue(e.getMessage().contains("\"image_bytes\" must be array<binary>"), e.getMessage());
    }

    static long[] longs(List<?> a) {
        return a.stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    }

    static long[] longs(JsonNode a) {
        long[] v = new long[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).asLong();
        return v;
    }

    static String withoutTimes(String line) {
        return line.replaceAll(",\"prefill_ms\":[0-9.]+,\"decode_ms\":[0-9.]+", "");
    }
}

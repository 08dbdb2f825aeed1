package ai.polyv.spark;

import ai.polyv.core.generate.RequestJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * Batch inference over a Spark {@code Dataset}.
 *
 * <pre>{@code
 * Dataset<Row> requests = spark.read().json("requests.jsonl");   // id, prompt or prompt_ids, images, max_new_tokens, ...
 * Dataset<Row> results = PolyVSpark.generate(requests, GenerateOptions.of("/models/polyv").withBatch(8, 0));
 * results.write().parquet("results.parquet");
 * }</pre>
 *
 * The request rows have an {@code id} column (any type, kept as text) and any of the fields of
 * {@link RequestJson#FIELDS} as columns (null: the option's default); image, video and scene paths must be readable
 * on the executors. Images may come as bytes instead: an {@code image_bytes} column, {@code array<binary>} (PNG/JPEG
 * file contents, e.g. from Parquet or {@code spark.read().format("binaryFile")}) or {@code array<string>} (the same in
 * base64, as JSON carries them), decoded inside the task by the decoder of image paths; in the prompt they follow the
 * {@code images}. Each executor JVM loads the model once ({@link ModelHolder}) and feeds its tasks' rows through one
 * continuous batcher. The result has one row per request, {@link #RESULT_SCHEMA}; a request that fails gets its
 * {@code error} and the job goes on.
 */
public final class PolyVSpark {
    private PolyVSpark() {}

    /** id, text, ids, prompt_tokens, completion_tokens, stop, prefill_ms, decode_ms, error. */
    public static final StructType RESULT_SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("text", DataTypes.StringType, true)
            .add("ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
            .add("prompt_tokens", DataTypes.IntegerType, false)
            .add("completion_tokens", DataTypes.IntegerType, false)
            .add("stop", DataTypes.StringType, true)
            .add("prefill_ms", DataTypes.DoubleType, false)
            .add("decode_ms", DataTypes.DoubleType, false)
            .add("error", DataTypes.StringType, true);

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One result row per request row (same partitions, same order within each).
     *
     * @throws IllegalArgumentException before anything runs: no {@code id} column, or a column that is no request field
     */
    public static Dataset<Row> generate(Dataset<Row> requests, GenerateOptions options) {
        List<String> columns = Arrays.asList(requests.columns());
        if (!columns.contains("id")) throw new IllegalArgumentException("the requests need an \"id\" column (columns: " + columns + ")");
        for (String c : columns) {
            if (!c.equals("id") && !RequestJson.FIELDS.contains(c)) {
                throw new IllegalArgumentException("unknown request column \"" + c + "\" (expected id and any of " + new TreeSet<>(RequestJson.FIELDS) + ")");
            }
        }
        if (columns.contains("image_bytes")) {
            DataType t = requests.schema().apply("image_bytes").dataType();
            if (!(t instanceof ArrayType a) || !(a.elementType() instanceof BinaryType || a.elementType() instanceof StringType)) {
                throw new IllegalArgumentException("column \"image_bytes\" must be array<binary> (PNG/JPEG bytes) or array<string> (the same in base64), got "
                        + t.simpleString());
            }
        }
        JavaRDD<RequestRow> rows = requests.toJavaRDD().map(PolyVSpark::request);
        JavaRDD<Row> out = SparkGenerate.run(rows, options).map(PolyVSpark::row);
        return requests.sparkSession().createDataFrame(out, RESULT_SCHEMA);
    }

    /**
     * A Dataset row as a request: its id, and its other non-null columns as the JSON object ({@link Row#json()} writes
     * binary as base64, the form {@link RequestJson} reads {@code image_bytes} in).
     */
    static RequestRow request(Row r) throws java.io.IOException {
        ObjectNode o = (ObjectNode) JSON.readTree(r.json());
        JsonNode id = o.remove("id");
        List<String> nulls = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().isNull()) nulls.add(e.getKey());
        }
        o.remove(nulls);
        return new RequestRow(id == null || id.isNull() ? "null" : id.asText(), JSON.writeValueAsString(o));
    }

    /** A result as a row of {@link #RESULT_SCHEMA}. */
    static Row row(ResultRow r) {
        return RowFactory.create(r.id(), r.text(), r.ids(), r.promptTokens(), r.completionTokens(), r.stop(), r.prefillMs(), r.decodeMs(), r.error());
    }
}

package ai.polyv.spark;

import ai.polyv.core.GenerationService;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.RequestJson;
import ai.polyv.core.generate.TokenConsumer;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.spark.api.java.JavaRDD;

/**
 * The batch-inference job: each partition goes through its executor JVM's model ({@link ModelHolder}), up to
 * {@code 4 * maxBatch} requests in flight per task, results in the partition's order. A request that cannot be parsed
 * or cannot run (an id outside the vocabulary, an unreadable image, a prompt longer than the context) becomes a
 * result row with {@code error} set; the job goes on.
 */
public final class SparkGenerate {
    private SparkGenerate() {}

    /** Requests to results, one per request, in the same partitions and order. */
    public static JavaRDD<ResultRow> run(JavaRDD<RequestRow> requests, GenerateOptions options) {
        return requests.mapPartitions(rows -> partition(rows, options));
    }

    /** One task: the rows of a partition through this JVM's batcher, a bounded window of them in flight. */
    static Iterator<ResultRow> partition(Iterator<RequestRow> rows, GenerateOptions o) {
        GenerationService service = ModelHolder.service(o);
        int window = 4 * o.maxBatch();
        ObjectMapper json = new ObjectMapper();
        Path base = Path.of(o.baseDir());
        return new Iterator<>() {
            final ArrayDeque<Pending> inFlight = new ArrayDeque<>();

            private void fill() {
                while (inFlight.size() < window && rows.hasNext()) inFlight.add(submit(rows.next()));
            }

            private Pending submit(RequestRow row) {
                GenerationRequest request;
                try {
                    request = RequestJson.parse(json.readTree(row.json()), base, o::defaults, o.sampling(), o.fps(), o.sceneViews());
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    return new Pending(row.id(), null, "not JSON (" + e.getOriginalMessage() + ")");
                } catch (RuntimeException e) {
                    return new Pending(row.id(), null, message(e));
                }
                return new Pending(row.id(), service.submit(request, TokenConsumer.NONE), null);
            }

            @Override
            public boolean hasNext() {
                fill();
                return !inFlight.isEmpty();
            }

            @Override
            public ResultRow next() {
                if (!hasNext()) throw new NoSuchElementException();
                return inFlight.poll().result();
            }
        };
    }

    private record Pending(String id, CompletableFuture<GenerationResult> future, String error) {
        ResultRow result() {
            if (error != null) return ResultRow.failed(id, error);
            GenerationResult r;
            try {
                r = future.join();
            } catch (CompletionException e) {
                return ResultRow.failed(id, message(e.getCause() == null ? e : e.getCause()));
            }
            var t = r.timings();
            return new ResultRow(id, r.text(), r.ids(), t.promptTokens(), r.ids().length, r.stopReason().name().toLowerCase(Locale.ROOT),
                    Math.round(t.prefillMillis() * 10) / 10.0, Math.round(t.decodeMillis() * 10) / 10.0, null);
        }
    }

    /** The one-line reason of a failure: the message, or the exception's name when it has none. */
    static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    }
}

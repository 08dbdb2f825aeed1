package ai.polyv.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.demo.DemoFixture;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a server behind a load balancer needs, on the demo checkpoint (greedy, long answers of a few seconds): drain,
 * admission (queue, body size, slow clients, deadline), API key, CORS, readiness, HEAD, log lines and metrics.
 * Each test starts its own server (the options differ) on one shared model.
 */
class ServerOperationsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static PolyV polyv;

    @BeforeAll
    static void load() {
        polyv = PolyV.load(DemoFixture.checkpoint(), new CpuBackend(2));
    }

    @AfterAll
    static void close() {
        polyv.close();
    }

    /** A service and a server over it, closed together. */
    record Running(GenerationService service, ChatServer server) implements AutoCloseable {
        static Running start(int maxBatch, Consumer<ChatServer.Options> options) throws Exception {
            GenerationService s = new GenerationService(polyv, maxBatch);
            ChatServer.Options o = new ChatServer.Options().defaults(new ChatRequests.Defaults(4000, 0, 1, 0));
            options.accept(o);
            return new Running(s, new ChatServer(s, "demo", "127.0.0.1", 0, o));
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + server.port() + path);
        }

        HttpRequest.Builder chat(int maxTokens, boolean stream) {
            return HttpRequest.newBuilder(uri("/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story.\"}], \"max_tokens\": " + maxTokens + ", \"stream\": " + stream + "}"));
        }

        HttpResponse<String> send(HttpRequest r) throws Exception {
            return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() {
            server.close();
            service.close();
        }
    }

    static List<String> events(String body) {
        return body.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    }

    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void drainFinishesTheRequestsInFlightAndRefusesNewOnes() throws Exception {
        try (Running r = Running.start(4, o -> { })) {
            CompletableFuture<HttpResponse<String>> stream = HTTP.sendAsync(r.chat(150, true).build(), HttpResponse.BodyHandlers.ofString());
            CompletableFuture<HttpResponse<String>> json = HTTP.sendAsync(r.chat(150, false).build(), HttpResponse.BodyHandlers.ofString());
            waitFor(() -> r.server.inFlight() == 2 && r.service.stats().active() == 2, "two requests decoding");
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.server.drain(Duration.ofSeconds(60));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            waitFor(() -> {
                try {
                    return r.send(HttpRequest.newBuilder(r.uri("/ready")).GET().build()).statusCode() == 503;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "/ready to turn 503");
            HttpResponse<String> refused = r.send(r.chat(2, false).build());
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("5", refused.headers().firstValue("Retry-After").orElseThrow());
            assertEquals(200, r.send(HttpRequest.newBuilder(r.uri("/health")).GET().build()).statusCode(), "still live");
            assertTrue(drained.get(60, TimeUnit.SECONDS), "everything finished in time");
            List<String> ev = events(stream.get().body());
            assertEquals("[DONE]", ev.getLast());
            assertEquals("length", JSON.readTree(ev.get(ev.size() - 2)).at("/choices/0/finish_reason").asText());
            assertEquals(150, JSON.readTree(json.get().body().strip()).at("/usage/completion_tokens").asInt(), json.get().body());
        }
    }

    @Test
    void aDrainTimeoutCancelsWhatIsLeftAndStreamsStillEnd() throws Exception {
        try (Running r = Running.start(2, o -> { })) {
            CompletableFuture<HttpResponse<String>> stream = HTTP.sendAsync(r.chat(3000, true).build(), HttpResponse.BodyHandlers.ofString());
            waitFor(() -> r.service.stats().generatedTokens() > 2, "tokens streaming");
            assertFalse(r.server.drain(Duration.ofMillis(300)));
            List<String> ev = events(stream.get(30, TimeUnit.SECONDS).body());
            assertEquals("[DONE]", ev.getLast());
            assertEquals("server_shutting_down", JSON.readTree(ev.get(ev.size() - 2)).at("/error/code").asText());
            waitFor(() -> r.service.stats().active() == 0, "the batch to empty");
            assertTrue(r.service.stats().cancelled() >= 1);
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        try (Running r = Running.start(1, o -> o.maxQueue(1))) {
            List<CompletableFuture<HttpResponse<String>>> rs = new ArrayList<>();
            rs.add(HTTP.sendAsync(r.chat(60, false).build(), HttpResponse.BodyHandlers.ofString()));
            waitFor(() -> r.service.stats().active() == 1, "one decoding");
            rs.add(HTTP.sendAsync(r.chat(5, false).build(), HttpResponse.BodyHandlers.ofString()));
            waitFor(() -> r.service.queued() == 1, "one waiting");
            HttpResponse<String> busy = r.send(r.chat(5, true).build());
            assertEquals(429, busy.statusCode(), busy.body());
            assertEquals("1", busy.headers().firstValue("Retry-After").orElseThrow());
            assertEquals("queue_full", JSON.readTree(busy.body()).at("/error/code").asText());
            for (var f : rs) assertEquals(200, f.get().statusCode());
        }
    }

    @Test
    void bodiesOverTheLimitGet413BeforeTheyAreRead() throws Exception {
        try (Running r = Running.start(1, o -> o.maxBodyBytes(1000))) {
            String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(5000) + "\"}]}";
            HttpResponse<String> fixed = r.send(HttpRequest.newBuilder(r.uri("/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(big)).build());
            assertEquals(413, fixed.statusCode());
            assertEquals("request_too_large", JSON.readTree(fixed.body()).at("/error/code").asText());
            // chunked (no Content-Length): refused while reading
            HttpResponse<String> chunked = r.send(HttpRequest.newBuilder(r.uri("/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build());
            assertEquals(413, chunked.statusCode());
        }
    }

    @Test
    void aClientThatSendsItsHeadersSlowlyIsDisconnected() throws Exception {
        // the surefire configuration sets the JDK server's read limit to 2 s (ChatServer.READ_TIMEOUT_PROPERTY)
        try (Running r = Running.start(1, o -> { }); Socket s = new Socket("127.0.0.1", r.server.port())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long t0 = System.nanoTime();
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "the server closes the connection");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds >= 1 && seconds < 10, "closed after " + seconds + " s");
        }
    }

    @Test
    void aRequestPastItsDeadlineIsCancelled() throws Exception {
        try (Running r = Running.start(1, o -> o.requestTimeout(Duration.ofMillis(400)))) {
            HttpResponse<String> json = r.send(r.chat(3000, false).build());
            assertEquals(504, json.statusCode(), json.body());
            assertEquals("request_timeout", JSON.readTree(json.body()).at("/error/code").asText());
            List<String> ev = events(r.send(r.chat(3000, true).build()).body());
            assertEquals("[DONE]", ev.getLast());
            assertEquals("request_timeout", JSON.readTree(ev.get(ev.size() - 2)).at("/error/code").asText());
            waitFor(() -> r.service.stats().active() == 0, "the batch to empty");
        }
    }

    @Test
    void aClientThatLeavesCancelsItsRequestStreamingOrNot() throws Exception {
        try (Running r = Running.start(2, o -> { })) {
            for (boolean stream : new boolean[] {true, false}) {
                long cancelled = r.service.stats().cancelled();
                try (Socket s = new Socket("127.0.0.1", r.server.port())) {
                    String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Go on.\"}], \"max_tokens\": 3000, \"stream\": " + stream + "}";
                    s.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.UTF_8));
                    waitFor(() -> r.service.stats().active() == 1, "the request decoding");
                }
                waitFor(() -> r.service.stats().cancelled() == cancelled + 1, "the request cancelled (stream " + stream + ")");
                waitFor(() -> r.service.stats().active() == 0, "the batch to empty");
                assertEquals(0, r.server.inFlight());
            }
        }
    }

    @Test
    void anApiKeyGuardsTheApiButNotTheProbes() throws Exception {
        try (Running r = Running.start(1, o -> o.apiKey("sk-test"))) {
            HttpResponse<String> none = r.send(r.chat(2, false).build());
            assertEquals(401, none.statusCode());
            JsonNode e = JSON.readTree(none.body()).get("error");
            assertEquals("invalid_api_key", e.get("code").asText());
            assertEquals("invalid_request_error", e.get("type").asText());
            assertEquals(401, r.send(r.chat(2, false).header("Authorization", "Bearer sk-wrong").build()).statusCode());
            assertEquals(200, r.send(r.chat(2, false).header("Authorization", "Bearer sk-test").build()).statusCode());
            assertEquals(200, r.send(HttpRequest.newBuilder(r.uri("/health")).GET().build()).statusCode());
            assertEquals(200, r.send(HttpRequest.newBuilder(r.uri("/metrics")).GET().build()).statusCode());
        }
    }

    @Test
    void corsIsOptInAndAnswersPreflights() throws Exception {
        try (Running plain = Running.start(1, o -> { })) {
            HttpResponse<String> r = plain.send(plain.chat(1, false).build());
            assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        }
        try (Running r = Running.start(1, o -> o.corsOrigin("*"))) {
            HttpResponse<String> pre = r.send(HttpRequest.newBuilder(r.uri("/v1/chat/completions")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                    .header("Access-Control-Request-Method", "POST").build());
            assertEquals(204, pre.statusCode());
            assertEquals("*", pre.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElseThrow().contains("Authorization"));
            assertEquals("*", r.send(r.chat(1, false).build()).headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        }
    }

    @Test
    void readinessIsDistinctFromLivenessAndBothAnswerHead() throws Exception {
        try (Running r = Running.start(1, o -> o.ready(false))) {
            HttpRequest ready = HttpRequest.newBuilder(r.uri("/ready")).GET().build();
            assertEquals(503, r.send(ready).statusCode());
            assertEquals("warming up", JSON.readTree(r.send(ready).body()).get("status").asText());
            assertEquals(200, r.send(HttpRequest.newBuilder(r.uri("/health")).GET().build()).statusCode());
            r.server.markReady();
            assertEquals(200, r.send(ready).statusCode());
            for (String p : new String[] {"/health", "/ready"}) {
                HttpResponse<String> head = r.send(HttpRequest.newBuilder(r.uri(p)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
                assertEquals(200, head.statusCode(), p);
                assertEquals("", head.body());
            }
        }
    }

    @Test
    void eachRequestLogsOneLineAndMetricsHaveVllmNamesAndHistograms() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Running r = Running.start(2, o -> o.log(lines::add))) {
            r.send(r.chat(5, false).header("x-request-id", "req-7").build());
            r.send(r.chat(5, true).build());
            r.send(HttpRequest.newBuilder(r.uri("/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString("{}")).build());
            waitFor(() -> lines.size() == 3, "three log lines");
            String first = lines.getFirst();
            assertTrue(first.contains("req-7") && first.contains("status=200") && first.contains("completion_tokens=5") && first.contains("ttft_ms=")
                    && first.contains("total_ms=") && first.contains("prompt_tokens="), first);
            assertTrue(lines.get(2).contains("status=400"), lines.get(2));
            String m = r.send(HttpRequest.newBuilder(r.uri("/metrics")).GET().build()).body();
            for (String name : new String[] {"vllm:num_requests_running{model_name=\"demo\"} 0", "vllm:num_requests_waiting{model_name=\"demo\"} 0",
                    "vllm:kv_cache_usage_perc{model_name=\"demo\"} 0", "vllm:time_to_first_token_seconds_count{model_name=\"demo\"} 2",
                    "vllm:e2e_request_latency_seconds_count{model_name=\"demo\"} 2", "vllm:time_per_output_token_seconds_count{model_name=\"demo\"} 2",
                    "vllm:e2e_request_latency_seconds_bucket{model_name=\"demo\",le=\"+Inf\"} 2", "vllm:generation_tokens_total{model_name=\"demo\"} 10",
                    "polyv_http_responses_total{code=\"400\"} 1"}) {
                assertTrue(m.lines().anyMatch(l -> l.equals(name)), name + " in\n" + m);
            }
            assertTrue(m.contains("# TYPE vllm:time_to_first_token_seconds histogram"), m);
        }
    }

    @Test
    void histogramsAreCumulative() {
        Histogram h = new Histogram("x", "help", "", new double[] {1, 2});
        h.observe(0.5);
        h.observe(2);
        h.observe(5);
        StringBuilder b = new StringBuilder();
        h.render(b);
        assertEquals("# HELP x help\n# TYPE x histogram\nx_bucket{le=\"1.0\"} 1\nx_bucket{le=\"2.0\"} 2\nx_bucket{le=\"+Inf\"} 3\nx_sum 7.5\nx_count 3\n",
                b.toString());
    }
}

package ai.polyv.serve;

import ai.polyv.core.GenerationService;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Generator;
import ai.polyv.core.generate.TokenConsumer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An HTTP front of a {@link GenerationService} with the OpenAI chat-completions shape, so existing clients
 * work: {@code POST /v1/chat/completions} (JSON, or server-sent events with {@code "stream": true}),
 * {@code GET /v1/models}, {@code GET /health}, {@code GET /metrics} (Prometheus text: requests, queue, batch, tokens). Every request goes into the one service, so concurrent clients
 * are decoded together (continuous batching). Errors are JSON {@code {"error": {"message", "type"}}} with
 * status 400 (bad request, message naming the field), 404, 405 or 500 (generation failed).
 * Tokens streamed to a client are written by that client's handler thread, never by the generation worker, so
 * a slow client does not slow the batch; a client that disconnects cancels its request.
 */
public final class ChatServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final GenerationService service;
    private final String modelName;
    private final int defaultMaxTokens;
    private final HttpServer http;
    private final ExecutorService handlers;

    /**
     * Binds {@code host:port} (port 0: any free port, see {@link #port}) and starts serving.
     *
     * @param defaultMaxTokens the budget of a request without {@code max_tokens}
     */
    public ChatServer(GenerationService service, String modelName, String host, int port, int defaultMaxTokens) throws IOException {
        this.service = Objects.requireNonNull(service, "service");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        if (defaultMaxTokens < 1) throw new IllegalArgumentException("default max tokens must be >= 1, got " + defaultMaxTokens);
        this.defaultMaxTokens = defaultMaxTokens;
        this.http = HttpServer.create(new InetSocketAddress(host, port), 64);
        this.handlers = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
        http.start();
    }

    /** The port bound. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** Stops accepting connections and waits up to a second for exchanges in progress; the service stays open. */
    @Override
    public void close() {
        http.stop(1);
        handlers.shutdown();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            String expected = switch (path) {
                case "/v1/chat/completions" -> "POST";
                case "/health", "/metrics", "/v1/models" -> "GET";
                default -> null;
            };
            if (expected == null) {
                error(ex, 404, "no route " + path + " (POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics)");
                return;
            }
            if (!method.equals(expected)) {
                error(ex, 405, "use " + expected + " for " + path);
                return;
            }
            switch (path) {
                case "/health" -> send(ex, 200, JSON.createObjectNode().put("status", "ok").put("model", modelName).put("queued", service.queued())
                        .put("max_batch", service.maxBatch()));
                case "/metrics" -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics(service.stats()).getBytes(StandardCharsets.UTF_8));
                case "/v1/models" -> {
                    ObjectNode o = JSON.createObjectNode().put("object", "list");
                    o.putArray("data").addObject().put("id", modelName).put("object", "model").put("owned_by", "polyv");
                    send(ex, 200, o);
                }
                default -> completions(ex);
            }
        }
    }

    private void completions(HttpExchange ex) throws IOException {
        ChatRequests.Parsed parsed;
        try {
            JsonNode body;
            try {
                body = JSON.readTree(ex.getRequestBody());
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("the request body is not JSON (" + e.getOriginalMessage() + ")");
            }
            parsed = ChatRequests.parse(body, defaultMaxTokens);
        } catch (IllegalArgumentException e) {
            error(ex, 400, e.getMessage());
            return;
        }
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        if (!parsed.stream()) {
            GenerationResult r;
            try {
                r = service.submit(parsed.request(), TokenConsumer.NONE).join();
            } catch (CompletionException e) {
                failure(ex, e.getCause());
                return;
            }
            ObjectNode o = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created).put("model", modelName);
            ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", r.text());
            choice.put("finish_reason", finishReason(r.stopReason()));
            usage(o, r);
            send(ex, 200, o);
            return;
        }
        // stream: the worker hands pieces over a queue; this thread writes them
        LinkedBlockingQueue<String> pieces = new LinkedBlockingQueue<>();
        CompletableFuture<GenerationResult> future = service.submit(parsed.request(), (tokenId, text) -> {
            if (!text.isEmpty()) pieces.add(text);
        });
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        try {
            ObjectNode first = chunk(id, created);
            ((ObjectNode) first.withArray("choices").get(0)).putObject("delta").put("role", "assistant");
            event(out, first);
            while (true) {
                String piece = pieces.poll(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (piece != null) {
                    ObjectNode c = chunk(id, created);
                    ((ObjectNode) c.withArray("choices").get(0)).putObject("delta").put("content", piece);
                    event(out, c);
                } else if (future.isDone() && pieces.isEmpty()) {
                    break;
                }
            }
            ObjectNode last = chunk(id, created);
            ObjectNode choice = (ObjectNode) last.withArray("choices").get(0);
            choice.putObject("delta");
            try {
                GenerationResult r = future.join();
                choice.put("finish_reason", finishReason(r.stopReason()));
                usage(last, r);
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                last.putObject("error").put("message", String.valueOf(cause.getMessage())).put("type", "server_error");
            }
            event(out, last);
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            future.cancel(true);                  // the client went away
            throw e;
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
        }
    }

    /** The service's counters in the Prometheus text format. */
    static String metrics(GenerationService.Stats s) {
        StringBuilder b = new StringBuilder();
        metric(b, "polyv_requests_submitted_total", "counter", "requests accepted", s.submitted());
        metric(b, "polyv_requests_completed_total", "counter", "requests finished with a result", s.completed());
        metric(b, "polyv_requests_failed_total", "counter", "requests finished with an error", s.failed());
        metric(b, "polyv_requests_cancelled_total", "counter", "requests cancelled (client gone)", s.cancelled());
        metric(b, "polyv_requests_queued", "gauge", "requests waiting for a batch slot", s.queued());
        metric(b, "polyv_batch_active", "gauge", "sequences in the decode batch", s.active());
        metric(b, "polyv_generated_tokens_total", "counter", "tokens generated", s.generatedTokens());
        metric(b, "polyv_decode_steps_total", "counter", "batched decode steps", s.decodeSteps());
        metric(b, "polyv_decode_batch_mean", "gauge", "sequences per decode step on average", s.meanBatch());
        metric(b, "polyv_prompt_tokens_reused_total", "counter", "prompt tokens served from the prefix cache", s.reusedPromptTokens());
        return b.toString();
    }

    private static void metric(StringBuilder b, String name, String type, String help, double value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        b.append(name).append(' ').append(value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value)).append('\n');
    }

    private ObjectNode chunk(String id, long created) {
        ObjectNode c = JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", modelName);
        c.putArray("choices").addObject().put("index", 0);
        return c;
    }

    private static void event(OutputStream out, JsonNode o) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(o) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void usage(ObjectNode o, GenerationResult r) {
        int prompt = r.promptIds().length, completion = r.ids().length;
        o.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    }

    static String finishReason(Generator.StopReason reason) {
        return switch (reason) {
            case STOP_TOKEN, STOP_STRING -> "stop";
            case MAX_NEW_TOKENS, CONTEXT_FULL -> "length";
        };
    }

    private static void failure(HttpExchange ex, Throwable cause) throws IOException {
        if (cause instanceof IllegalArgumentException) error(ex, 400, cause.getMessage());
        else error(ex, 500, cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("error").put("message", message).put("type", status == 400 ? "invalid_request_error" : status == 405 ? "method_not_allowed" : status >= 500 ? "server_error" : "not_found");
        send(ex, status, o);
    }

    private static void send(HttpExchange ex, int status, JsonNode o) throws IOException {
        send(ex, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(o));
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}

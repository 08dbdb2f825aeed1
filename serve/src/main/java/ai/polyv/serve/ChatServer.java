package ai.polyv.serve;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
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
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An HTTP front of a {@link GenerationService} with the OpenAI API's shape, so existing clients work:
 * <ul>
 *   <li>{@code POST /v1/chat/completions} and {@code POST /v1/completions} (JSON, or server-sent events with
 *       {@code "stream": true}; {@link ChatRequests} says what the bodies may hold), {@code GET /v1/models},
 *       {@code GET /v1/models/{id}};</li>
 *   <li>{@code GET|HEAD /health} (live: the process answers), {@code GET|HEAD /ready} (ready: weights loaded and warmed
 *       up, not draining; 503 otherwise), {@code GET /metrics} (Prometheus text: vLLM's gauge and histogram names that
 *       fleet routers scrape, and polyv's counters).</li>
 * </ul>
 * Every request goes into the one service, so concurrent clients are decoded together (continuous batching).
 *
 * <p>Admission, in order: the API key ({@link Options#apiKey}, 401 for {@code /v1/*}), draining (503 +
 * {@code Retry-After}), the body size (413, from {@code Content-Length} before reading, or while reading), the
 * request itself (400 naming the field in {@code param}; the prompt is tokenized, its images read and its length and
 * KV rows checked on the client's thread before anything is sent, so a stream that fails this way gets a 400 too),
 * then the queue ({@link Options#maxQueue}: 429 + {@code Retry-After}). Error bodies are OpenAI's
 * {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * <p>Tokens streamed to a client are written by that client's handler thread, never by the generation worker, so a
 * slow client does not slow the batch. A client that disconnects cancels its request: streams notice at their next
 * write (a comment line is sent after a second of silence), non-streaming answers that take over a second are sent
 * as chunked JSON preceded by a space per second of waiting, which notices the same way. A request that passes its
 * deadline ({@link Options#requestTimeout}) is cancelled (504, or an error event on a stream).
 *
 * <p>{@link #drain}: readiness turns false, new requests get 503, requests in flight finish (up to a timeout, then they
 * are cancelled and their streams still end with {@code [DONE]}).
 */
public final class ChatServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:/+=-]{1,128}");
    /** The JDK server's limit on reading a request (headers and body), seconds; read once, when its class loads. */
    static final String READ_TIMEOUT_PROPERTY = "sun.net.httpserver.maxReqTime";
    private static final long SILENCE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** How the server admits and answers requests; the defaults suit a local single-user server. */
    public static final class Options {
        ChatRequests.Defaults defaults = ChatRequests.Defaults.openAi(256);
        int maxQueue = 64;
        long maxBodyBytes = 32L << 20;
        Duration requestTimeout = Duration.ofMinutes(10);
        long readTimeoutSeconds = 30;
        String apiKey;
        String corsOrigin;
        Consumer<String> log;
        boolean ready = true;

        /** What a request that leaves out max_tokens / temperature / top_p / top_k gets; {@code maxTokens} is also the cap. */
        public Options defaults(ChatRequests.Defaults d) {
            this.defaults = Objects.requireNonNull(d, "defaults");
            return this;
        }

        /** Requests waiting for a batch slot beyond which new ones get 429; 0 = no limit. */
        public Options maxQueue(int n) {
            if (n < 0) throw new IllegalArgumentException("max queue must be >= 0, got " + n);
            this.maxQueue = n;
            return this;
        }

        /** Largest request body (413 beyond it). */
        public Options maxBodyBytes(long n) {
            if (n < 1) throw new IllegalArgumentException("max body bytes must be >= 1, got " + n);
            this.maxBodyBytes = n;
            return this;
        }

        /** Deadline of one request from its arrival to its last token; zero = none. */
        public Options requestTimeout(Duration d) {
            if (d.isNegative()) throw new IllegalArgumentException("request timeout must be >= 0, got " + d);
            this.requestTimeout = d;
            return this;
        }

        /**
         * Time allowed to receive a request's headers and body before the connection is closed (slow clients); 0 =
         * none. The JDK's server reads it once per JVM ({@value #READ_TIMEOUT_PROPERTY}): the first server of a JVM
         * sets it, unless the property is already given.
         */
        public Options readTimeoutSeconds(long s) {
            if (s < 0) throw new IllegalArgumentException("read timeout must be >= 0, got " + s);
            this.readTimeoutSeconds = s;
            return this;
        }

        /** The key clients must send as {@code Authorization: Bearer KEY} on {@code /v1/*}; null = open. */
        public Options apiKey(String key) {
            if (key != null && key.isBlank()) throw new IllegalArgumentException("the API key is blank");
            this.apiKey = key;
            return this;
        }

        /** The {@code Access-Control-Allow-Origin} to answer browsers with ({@code *} or an origin); null = no CORS. */
        public Options corsOrigin(String origin) {
            this.corsOrigin = origin;
            return this;
        }

        /** Receives one line per API request (id, status, tokens, times); null = none. */
        public Options log(Consumer<String> log) {
            this.log = log;
            return this;
        }

        /** Whether {@code /ready} says ready from the start (false: after {@link ChatServer#markReady}). */
        public Options ready(boolean ready) {
            this.ready = ready;
            return this;
        }
    }

    /** One API request as it goes: for its log line and the histograms. */
    private static final class Call {
        final String id;
        final long start = System.nanoTime();
        volatile long firstToken;                 // nanoTime of the first generated token, 0 before
        final AtomicInteger tokens = new AtomicInteger();
        int status;
        int promptTokens = -1;
        Long seed;
        boolean stream;
        volatile String cancelReason;             // "drain", "deadline", "client"

        Call(String id) {
            this.id = id;
        }
    }

    private final GenerationService service;
    private final String modelName;
    private final Options options;
    private final HttpServer http;
    private final ExecutorService handlers;
    private volatile boolean ready, draining;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<CompletableFuture<GenerationResult>, Call> live = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> responses = new ConcurrentHashMap<>();
    private final Histogram ttft, tpot, latency;
    private final LongAdder promptTokensTotal = new LongAdder(), generationTokensTotal = new LongAdder();

    /**
     * Binds {@code host:port} (port 0: any free port, see {@link #port}) and starts serving, with the default
     * {@link Options} and {@code defaultMaxTokens} as the budget (and cap) of a request.
     */
    public ChatServer(GenerationService service, String modelName, String host, int port, int defaultMaxTokens) throws IOException {
        this(service, modelName, host, port, new Options().defaults(ChatRequests.Defaults.openAi(defaultMaxTokens)));
    }

    /** Binds {@code host:port} (port 0: any free port, see {@link #port}) and starts serving. */
    public ChatServer(GenerationService service, String modelName, String host, int port, Options options) throws IOException {
        this.service = Objects.requireNonNull(service, "service");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.options = Objects.requireNonNull(options, "options");
        this.ready = options.ready;
        if (System.getProperty(READ_TIMEOUT_PROPERTY) == null && options.readTimeoutSeconds > 0) {
            System.setProperty(READ_TIMEOUT_PROPERTY, String.valueOf(options.readTimeoutSeconds));
        }
        String labels = "model_name=\"" + modelName.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        this.ttft = new Histogram("vllm:time_to_first_token_seconds", "time from a request's arrival to its first token", labels, Histogram.TTFT);
        this.tpot = new Histogram("vllm:time_per_output_token_seconds", "time per generated token after the first", labels, Histogram.TPOT);
        this.latency = new Histogram("vllm:e2e_request_latency_seconds", "time from a request's arrival to its last token", labels, Histogram.LATENCY);
        this.http = HttpServer.create(new InetSocketAddress(host, port), 128);
        this.handlers = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
        http.start();
    }

    /** The port bound. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code /ready} answers 200 from now on (unless draining): call it once the model is warmed up. */
    public void markReady() {
        ready = true;
    }

    /** API requests being answered now. */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Graceful stop: {@code /ready} turns 503, new API requests get 503 with {@code Retry-After}, and this waits for
     * the requests in flight to finish. Past {@code timeout} the rest are cancelled (their streams end with an error
     * event and {@code [DONE]}, their JSON answers with a 503). Returns true when everything finished in time. The
     * listener stays open ({@link #close} closes it), so that load balancers see the 503s instead of refused
     * connections while they take the instance out.
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        draining = true;
        long end = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < end) Thread.sleep(20);
        if (inFlight.get() == 0) return true;
        live.forEach((future, call) -> {
            call.cancelReason = "drain";
            future.cancel(true);
        });
        long grace = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);   // the handlers write their last events
        while (inFlight.get() > 0 && System.nanoTime() < grace) Thread.sleep(20);
        return false;
    }

    /** Stops accepting connections and waits up to a second for exchanges in progress; the service stays open. */
    @Override
    public void close() {
        draining = true;
        http.stop(1);
        handlers.shutdown();
    }

    // ---- routing ------------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        String given = ex.getRequestHeaders().getFirst("x-request-id");
        Call call = new Call(given != null && REQUEST_ID.matcher(given).matches() ? given : UUID.randomUUID().toString());
        String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
        boolean api = path.startsWith("/v1/");
        try (ex) {
            ex.getResponseHeaders().set("x-request-id", call.id);
            if (options.corsOrigin != null) {
                ex.getResponseHeaders().set("Access-Control-Allow-Origin", options.corsOrigin);
                if (!options.corsOrigin.equals("*")) ex.getResponseHeaders().set("Vary", "Origin");
                ex.getResponseHeaders().set("Access-Control-Expose-Headers", "x-request-id, x-polyv-seed");
            }
            route(ex, call, path, method, api);
        } catch (IOException e) {
            if (call.status == 0) call.status = 499;                       // the client went away
            throw e;
        } finally {
            if (call.status != 0) responses.computeIfAbsent(call.status, k -> new LongAdder()).increment();
            if (api && options.log != null) options.log.accept(logLine(call, method, path));
        }
    }

    private void route(HttpExchange ex, Call call, String path, String method, boolean api) throws IOException {
        String allowed = switch (path) {
            case "/v1/chat/completions", "/v1/completions" -> "POST";
            case "/health", "/ready" -> "GET, HEAD";
            case "/metrics", "/v1/models" -> "GET";
            default -> path.startsWith("/v1/models/") ? "GET" : null;
        };
        if (allowed == null) {
            error(ex, call, 404, "no route " + path + " (POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, GET /ready,"
                    + " GET /metrics)", "not_found", null, "not_found");
            return;
        }
        if (method.equals("OPTIONS") && options.corsOrigin != null) {             // a browser's preflight
            ex.getResponseHeaders().set("Access-Control-Allow-Methods", allowed + ", OPTIONS");
            ex.getResponseHeaders().set("Access-Control-Allow-Headers", "Authorization, Content-Type, x-request-id");
            ex.getResponseHeaders().set("Access-Control-Max-Age", "600");
            call.status = 204;
            ex.sendResponseHeaders(204, -1);
            return;
        }
        if (!java.util.List.of(allowed.split(", ")).contains(method)) {
            ex.getResponseHeaders().set("Allow", allowed);
            error(ex, call, 405, "use " + allowed + " for " + path, "method_not_allowed", null, "method_not_allowed");
            return;
        }
        if (api && options.apiKey != null && !authorized(ex)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            error(ex, call, 401, "Incorrect API key provided. Send it as \"Authorization: Bearer KEY\".", "invalid_request_error", null,
                    "invalid_api_key");
            return;
        }
        boolean head = method.equals("HEAD");
        switch (path) {
            case "/health" -> send(ex, call, 200, JSON.createObjectNode().put("status", "ok").put("model", modelName).put("queued", service.queued())
                    .put("max_batch", service.maxBatch()), head);
            case "/ready" -> {
                boolean ok = ready && !draining;
                send(ex, call, ok ? 200 : 503, JSON.createObjectNode().put("status", ok ? "ready" : draining ? "draining" : "warming up"), head);
            }
            case "/metrics" -> send(ex, call, 200, "text/plain; version=0.0.4; charset=utf-8", metrics().getBytes(StandardCharsets.UTF_8), false);
            case "/v1/models" -> {
                ObjectNode o = JSON.createObjectNode().put("object", "list");
                o.putArray("data").add(model());
                send(ex, call, 200, o, false);
            }
            case "/v1/chat/completions" -> generate(ex, call, true);
            case "/v1/completions" -> generate(ex, call, false);
            default -> {                                                            // /v1/models/{id}
                String id = path.substring("/v1/models/".length());
                if (id.equals(modelName)) send(ex, call, 200, model(), false);
                else error(ex, call, 404, "The model '" + id + "' does not exist (this server serves '" + modelName + "')", "invalid_request_error",
                        "model", "model_not_found");
            }
        }
    }

    private ObjectNode model() {
        return JSON.createObjectNode().put("id", modelName).put("object", "model").put("created", 0).put("owned_by", "polyv");
    }

    private boolean authorized(HttpExchange ex) {
        String h = ex.getRequestHeaders().getFirst("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        return MessageDigest.isEqual(h.substring(7).trim().getBytes(StandardCharsets.UTF_8), options.apiKey.getBytes(StandardCharsets.UTF_8));
    }

    // ---- generation ---------------------------------------------------------------------------------------------

    /** The body too large for {@link Options#maxBodyBytes}. */
    private static final class TooLarge extends Exception {
        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    private byte[] body(HttpExchange ex) throws IOException, TooLarge {
        long max = options.maxBodyBytes;
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > max) throw new TooLarge("the request body is " + length.trim() + " bytes, the limit is " + max);
            } catch (NumberFormatException e) {
                // the JDK's server has refused it already
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        if (b.length > max) throw new TooLarge("the request body is over the limit of " + max + " bytes");
        return b;
    }

    private void generate(HttpExchange ex, Call call, boolean chat) throws IOException {
        if (draining) {
            ex.getResponseHeaders().set("Retry-After", "5");
            ex.getResponseHeaders().set("Connection", "close");
            error(ex, call, 503, "the server is shutting down; retry on another instance", "server_error", null, "server_shutting_down");
            return;
        }
        inFlight.incrementAndGet();
        try {
            answer(ex, call, chat);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void answer(HttpExchange ex, Call call, boolean chat) throws IOException {
        ChatRequests.Parsed parsed;
        PolyV.Prepared prepared;
        try {
            byte[] bytes = body(ex);
            JsonNode body;
            try {
                body = JSON.readTree(bytes);
            } catch (JsonProcessingException e) {
                throw new ChatRequests.InvalidRequest(null, "the request body is not JSON (" + e.getOriginalMessage() + ")");
            }
            parsed = chat ? ChatRequests.parse(body, options.defaults, ThreadLocalRandom.current()::nextLong)
                    : ChatRequests.parseCompletion(body, options.defaults, ThreadLocalRandom.current()::nextLong, this::encode);
            prepared = service.prepare(parsed.request());
        } catch (TooLarge e) {
            ex.getResponseHeaders().set("Connection", "close");
            error(ex, call, 413, e.getMessage(), "invalid_request_error", null, "request_too_large");
            return;
        } catch (IllegalArgumentException e) {
            boolean tooLong = e.getMessage() != null && e.getMessage().startsWith("prompt too long");
            String param = e instanceof ChatRequests.InvalidRequest ir ? ir.param() : tooLong ? (chat ? "messages" : "prompt") : null;
            String code = tooLong ? "context_length_exceeded" : null;
            error(ex, call, 400, e.getMessage(), "invalid_request_error", param, code);
            return;
        }
        call.stream = parsed.stream();
        call.seed = parsed.seed();
        call.promptTokens = prepared.job().promptIds().length;
        if (options.maxQueue > 0 && service.queued() >= options.maxQueue) {
            ex.getResponseHeaders().set("Retry-After", "1");
            error(ex, call, 429, "the server is busy (" + service.queued() + " requests waiting); retry shortly", "rate_limit_error", null, "queue_full");
            return;
        }
        LinkedBlockingQueue<String> pieces = new LinkedBlockingQueue<>();
        CompletableFuture<GenerationResult> future;
        try {
            future = service.submit(prepared, (tokenId, text) -> {
                if (call.tokens.getAndIncrement() == 0) call.firstToken = System.nanoTime();
                if (!text.isEmpty()) pieces.add(text);
            });
        } catch (IllegalStateException closed) {
            error(ex, call, 503, "the server is shutting down", "server_error", null, "server_shutting_down");
            return;
        }
        live.put(future, call);
        ex.getResponseHeaders().set("x-polyv-seed", String.valueOf(parsed.seed()));
        try {
            String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
            if (parsed.stream()) stream(ex, call, chat, id, parsed, future, pieces);
            else json(ex, call, chat, id, parsed, future);
        } catch (IOException e) {
            call.cancelReason = "client";                                          // the client went away
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            live.remove(future);
            future.cancel(true);                                                   // no-op once done
        }
    }

    private int[] encode(String text) {
        return service.tokenizer().orElseThrow(() -> new IllegalArgumentException("this model has no tokenizer: /v1/completions needs one"))
                .encode(text);
    }

    private long deadline(Call call) {
        long d = options.requestTimeout.toNanos();
        return d == 0 ? Long.MAX_VALUE : call.start + d;
    }

    /** Waits for the result until {@code until} (nanoTime); null when it is not done by then. */
    private static GenerationResult await(CompletableFuture<GenerationResult> f, long until) throws InterruptedException, ExecutionException {
        try {
            return f.get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        }
    }

    private void json(HttpExchange ex, Call call, boolean chat, String id, ChatRequests.Parsed parsed, CompletableFuture<GenerationResult> future)
            throws IOException, InterruptedException {
        long deadline = deadline(call);
        OutputStream out = null;                          // set once the 200 is committed (a long answer)
        GenerationResult r = null;
        Throwable failure = null;
        try {
            r = await(future, Math.min(deadline, call.start + SILENCE_NANOS));
            if (r == null && System.nanoTime() < deadline) {
                // a long answer: commit the 200 and send a space per second, so that a client that left is noticed
                ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
                call.status = 200;
                ex.sendResponseHeaders(200, 0);
                out = ex.getResponseBody();
                while ((r = await(future, Math.min(deadline, System.nanoTime() + SILENCE_NANOS))) == null && System.nanoTime() < deadline) {
                    out.write(' ');
                    out.flush();
                }
            }
            if (r == null) {
                call.cancelReason = "deadline";
                future.cancel(true);
            }
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (CancellationException e) {
            failure = e;
        }
        if (r == null && failure == null) failure = new CancellationException();
        if (failure != null) {
            String[] e = failureBody(call, failure);
            int status = Integer.parseInt(e[0]);
            if (out == null) {
                if (status == 503) ex.getResponseHeaders().set("Retry-After", "5");
                error(ex, call, status, e[1], e[2], null, e[3]);
            } else {
                call.status = status;                              // logged; the client got 200 and this body
                out.write(JSON.writeValueAsBytes(errorBody(e[1], e[2], null, e[3])));
                out.close();
            }
            return;
        }
        ObjectNode o = JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", modelName);
        ObjectNode choice = o.putArray("choices").addObject().put("index", 0);
        if (chat) choice.putObject("message").put("role", "assistant").put("content", r.text()).putNull("refusal");
        else choice.put("text", r.text());
        choice.putNull("logprobs").put("finish_reason", finishReason(r.stopReason()));
        usage(o, r);
        o.put("seed", parsed.seed());
        finished(call, r);
        byte[] bytes = JSON.writeValueAsBytes(o);
        if (out == null) {
            send(ex, call, 200, "application/json; charset=utf-8", bytes, false);
        } else {
            out.write(bytes);
            out.close();
        }
    }

    private void stream(HttpExchange ex, Call call, boolean chat, String id, ChatRequests.Parsed parsed, CompletableFuture<GenerationResult> future,
                        LinkedBlockingQueue<String> pieces) throws IOException, InterruptedException {
        long created = System.currentTimeMillis() / 1000, deadline = deadline(call);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no");
        call.status = 200;
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        if (chat) {
            ObjectNode first = chunk(id, created, chat);
            choice(first).putObject("delta").put("role", "assistant").put("content", "");
            event(out, first);
        }
        long lastWrite = System.nanoTime();
        while (true) {
            String piece = pieces.poll(50, TimeUnit.MILLISECONDS);
            if (piece != null) {
                ObjectNode c = chunk(id, created, chat);
                if (chat) choice(c).putObject("delta").put("content", piece);
                else choice(c).put("text", piece);
                event(out, c);
                lastWrite = System.nanoTime();
            } else if (future.isDone() && pieces.isEmpty()) {
                break;
            } else if (System.nanoTime() >= deadline) {
                call.cancelReason = "deadline";
                future.cancel(true);
            } else if (System.nanoTime() - lastWrite >= SILENCE_NANOS) {       // notices a client that left
                out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                lastWrite = System.nanoTime();
            }
        }
        GenerationResult r = null;
        try {
            r = future.join();
        } catch (java.util.concurrent.CompletionException | CancellationException e) {
            String[] f = failureBody(call, e instanceof java.util.concurrent.CompletionException ? e.getCause() : e);
            call.status = Integer.parseInt(f[0]);
            event(out, errorBody(f[1], f[2], null, f[3]));
        }
        if (r != null) {
            ObjectNode last = chunk(id, created, chat);
            ObjectNode choice = choice(last);
            if (chat) choice.putObject("delta");
            else choice.put("text", "");
            choice.put("finish_reason", finishReason(r.stopReason()));
            event(out, last);
            if (parsed.includeUsage()) {
                ObjectNode u = JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
                        .put("created", created).put("model", modelName);
                u.putArray("choices");
                usage(u, r);
                event(out, u);
            }
            finished(call, r);
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.close();
    }

    /** {status, message, type, code} for a request that did not finish. */
    private static String[] failureBody(Call call, Throwable cause) {
        if (cause instanceof CancellationException) {
            return switch (String.valueOf(call.cancelReason)) {
                case "deadline" -> new String[] {"504", "the request passed its deadline and was cancelled", "timeout", "request_timeout"};
                default -> new String[] {"503", "the server is shutting down; the request was cancelled", "server_error", "server_shutting_down"};
            };
        }
        if (cause instanceof IllegalArgumentException) return new String[] {"400", cause.getMessage(), "invalid_request_error", null};
        return new String[] {"500", cause.getClass().getSimpleName() + ": " + cause.getMessage(), "server_error", null};
    }

    /** A request that produced its result: counters and histograms. */
    private void finished(Call call, GenerationResult r) {
        long end = System.nanoTime();
        promptTokensTotal.add(r.promptIds().length);
        generationTokensTotal.add(r.ids().length);
        latency.observe((end - call.start) / 1e9);
        if (call.firstToken != 0) {
            ttft.observe((call.firstToken - call.start) / 1e9);
            if (r.ids().length > 1) tpot.observe((end - call.firstToken) / 1e9 / (r.ids().length - 1));
        }
    }

    private String logLine(Call call, String method, String path) {
        long now = System.nanoTime();
        StringBuilder b = new StringBuilder("polyv serve: request ").append(call.id).append(' ').append(method).append(' ').append(path)
                .append(" status=").append(call.status);
        if (call.promptTokens >= 0) b.append(" prompt_tokens=").append(call.promptTokens).append(" completion_tokens=").append(call.tokens.get());
        if (call.firstToken != 0) b.append(String.format(Locale.ROOT, " ttft_ms=%.1f", (call.firstToken - call.start) / 1e6));
        b.append(String.format(Locale.ROOT, " total_ms=%.1f", (now - call.start) / 1e6));
        if (call.seed != null) b.append(" stream=").append(call.stream).append(" seed=").append(call.seed);
        if (call.cancelReason != null) b.append(" cancelled=").append(call.cancelReason);
        return b.toString();
    }

    // ---- metrics ------------------------------------------------------------------------------------------------

    /** The Prometheus text exposition: vLLM's names for what routers and dashboards read, then polyv's counters. */
    String metrics() {
        GenerationService.Stats s = service.stats();
        String labels = "{model_name=\"" + modelName.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        StringBuilder b = new StringBuilder();
        metric(b, "vllm:num_requests_running", "gauge", "requests in the decode batch", labels, s.active());
        metric(b, "vllm:num_requests_waiting", "gauge", "requests waiting for a batch slot or KV room", labels, s.queued());
        metric(b, "vllm:kv_cache_usage_perc", "gauge", "fraction of the KV cache budget held by running requests (1 = full)", labels, s.kvUsage());
        metric(b, "vllm:gpu_cache_usage_perc", "gauge", "the same as vllm:kv_cache_usage_perc (the older name routers read)", labels, s.kvUsage());
        metric(b, "vllm:prompt_tokens_total", "counter", "prompt tokens of finished requests", labels, promptTokensTotal.sum());
        metric(b, "vllm:generation_tokens_total", "counter", "tokens generated for finished requests", labels, generationTokensTotal.sum());
        ttft.render(b);
        tpot.render(b);
        latency.render(b);
        metric(b, "polyv_requests_submitted_total", "counter", "requests accepted", "", s.submitted());
        metric(b, "polyv_requests_completed_total", "counter", "requests finished with a result", "", s.completed());
        metric(b, "polyv_requests_failed_total", "counter", "requests finished with an error", "", s.failed());
        metric(b, "polyv_requests_cancelled_total", "counter", "requests cancelled (client gone, deadline, drain)", "", s.cancelled());
        metric(b, "polyv_requests_queued", "gauge", "requests waiting for a batch slot", "", s.queued());
        metric(b, "polyv_batch_active", "gauge", "sequences in the decode batch", "", s.active());
        metric(b, "polyv_kv_rows_in_use", "gauge", "KV rows held by the batch", "", s.kvRowsInUse());
        metric(b, "polyv_kv_rows_budget", "gauge", "KV rows the batch may hold (0 = no limit)", "", s.kvRowsBudget());
        metric(b, "polyv_generated_tokens_total", "counter", "tokens generated", "", s.generatedTokens());
        metric(b, "polyv_decode_steps_total", "counter", "batched decode steps", "", s.decodeSteps());
        metric(b, "polyv_decode_batch_mean", "gauge", "sequences per decode step on average", "", s.meanBatch());
        metric(b, "polyv_prompt_tokens_reused_total", "counter", "prompt tokens served from the prefix cache", "", s.reusedPromptTokens());
        metric(b, "polyv_http_requests_in_flight", "gauge", "API requests being answered", "", inFlight.get());
        b.append("# HELP polyv_http_responses_total responses by status code\n# TYPE polyv_http_responses_total counter\n");
        new java.util.TreeMap<>(responses).forEach((code, n) -> b.append("polyv_http_responses_total{code=\"").append(code).append("\"} ")
                .append(n.sum()).append('\n'));
        return b.toString();
    }

    private static void metric(StringBuilder b, String name, String type, String help, String labels, double value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        b.append(name).append(labels).append(' ').append(value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value)).append('\n');
    }

    // ---- bodies -------------------------------------------------------------------------------------------------

    private ObjectNode chunk(String id, long created, boolean chat) {
        ObjectNode c = JSON.createObjectNode().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion").put("created", created)
                .put("model", modelName);
        c.putArray("choices").addObject().put("index", 0).putNull("logprobs").putNull("finish_reason");
        return c;
    }

    private static ObjectNode choice(ObjectNode chunk) {
        return (ObjectNode) chunk.withArray("choices").get(0);
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

    private static ObjectNode errorBody(String message, String type, String param, String code) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode e = o.putObject("error").put("message", message).put("type", type);
        if (param == null) e.putNull("param");
        else e.put("param", param);
        if (code == null) e.putNull("code");
        else e.put("code", code);
        return o;
    }

    private static void error(HttpExchange ex, Call call, int status, String message, String type, String param, String code) throws IOException {
        send(ex, call, status, errorBody(message, type, param, code), false);
    }

    private static void send(HttpExchange ex, Call call, int status, JsonNode o, boolean head) throws IOException {
        send(ex, call, status, "application/json; charset=utf-8", JSON.writeValueAsBytes(o), head);
    }

    private static void send(HttpExchange ex, Call call, int status, String contentType, byte[] bytes, boolean head) throws IOException {
        call.status = status;
        ex.getResponseHeaders().set("Content-Type", contentType);
        if (head) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}

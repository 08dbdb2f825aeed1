package ai.polyv.cli;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.serve.ChatRequests;
import ai.polyv.serve.ChatServer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv serve}: an OpenAI-style HTTP server over one model, concurrent requests decoded together, for
 * production behind a load balancer: graceful drain on SIGTERM, admission control (queue, KV budget, body size,
 * read timeout, deadline), API key, CORS, request log lines, /health, /ready and /metrics.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP: POST /v1/chat/completions (OpenAI chat format; \"stream\": true for server-sent events; "
                + "images as data URLs in any user turn), POST /v1/completions, GET /v1/models[/ID], GET|HEAD /health (live), "
                + "GET|HEAD /ready (warmed up, not draining), GET /metrics (Prometheus; vLLM names).",
                "Concurrent requests are decoded together (continuous batching, up to --max-batch). SIGTERM or Ctrl-C drains: "
                        + "/ready turns 503, new requests get 503, requests in flight finish (up to --drain-timeout), then the process exits."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder (config.json + safetensors + tokenizer.json)")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: DIR/tokenizer.json)")
    Path tokenizer;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N", description = "sequences decoded together (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N",
            description = "budget of a request without max_tokens, and the most one may ask for (larger values are lowered to it) "
                    + "(default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
            description = "requests waiting for a batch slot beyond which new ones get 429 + Retry-After; 0 = no limit (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--kv-cache-gb", paramLabel = "GB",
            description = "KV cache budget: a request joins the batch only when the KV rows of the batch (prompt + max tokens each) fit "
                    + "in it, else it waits in order (default: a quarter of the machine's memory on cpu, none on cuda; 0 = none)")
    Double kvCacheGb;

    @Option(names = "--max-body-mb", defaultValue = "32", paramLabel = "MB",
            description = "largest request body, refused with 413 before it is read (default: ${DEFAULT-VALUE})")
    int maxBodyMb;

    @Option(names = "--read-timeout", defaultValue = "30", paramLabel = "S",
            description = "seconds a client may take to send a request's headers and body; slower ones are disconnected; 0 = none "
                    + "(default: ${DEFAULT-VALUE})")
    long readTimeout;

    @Option(names = "--request-timeout", defaultValue = "600", paramLabel = "S",
            description = "deadline of a request from its arrival to its last token, then it is cancelled (504); 0 = none (default: ${DEFAULT-VALUE})")
    long requestTimeout;

    @Option(names = "--drain-timeout", defaultValue = "30", paramLabel = "S",
            description = "on SIGTERM, seconds the requests in flight get to finish before they are cancelled (default: ${DEFAULT-VALUE})")
    long drainTimeout;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "clients must send \"Authorization: Bearer KEY\" on /v1/* (401 otherwise); default: $POLYV_API_KEY, else open")
    String apiKey;

    @Option(names = "--cors", paramLabel = "ORIGIN", description = "answer browsers from ORIGIN (or *) with CORS headers and preflights (default: off)")
    String cors;

    @Option(names = "--prefix-cache", defaultValue = "4", paramLabel = "N",
            description = "finished conversations kept so that their next turn reuses the KV rows of the shared prefix "
                    + "(same messages and pictures) instead of prefilling them again; 0 = off (default: ${DEFAULT-VALUE})")
    int prefixCache;

    @Option(names = "--prefill-chunk", defaultValue = "256", paramLabel = "N",
            description = "prompts longer than this are prefilled N tokens per decode step, so running requests keep "
                    + "streaming meanwhile; 0 = whole prompts (default: ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "cpu, cuda or cuda-bf16 (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU worker threads (default: all processors)")
    int threads;

    @Override
    public Integer call() throws InterruptedException {
        PathChecks.directory("model folder", model);
        Path tok = tokenizer != null ? PathChecks.regularFile("tokenizer file", tokenizer)
                : PathChecks.regularFile("tokenizer file (a chat server needs one)", model.resolve(PolyV.TOKENIZER_FILE));
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
        if (maxQueue < 0) throw new IllegalArgumentException("--max-queue must be >= 0, got " + maxQueue);
        if (kvCacheGb != null && !(kvCacheGb >= 0)) throw new IllegalArgumentException("--kv-cache-gb must be >= 0, got " + kvCacheGb);
        if (maxBodyMb < 1) throw new IllegalArgumentException("--max-body-mb must be >= 1, got " + maxBodyMb);
        if (readTimeout < 0 || requestTimeout < 0 || drainTimeout < 0) throw new IllegalArgumentException("timeouts must be >= 0 seconds");
        if (prefixCache < 0) throw new IllegalArgumentException("--prefix-cache must be >= 0, got " + prefixCache);
        if (prefillChunk < 0) throw new IllegalArgumentException("--prefill-chunk must be >= 0, got " + prefillChunk);
        String key = apiKey != null ? apiKey : System.getenv("POLYV_API_KEY");
        if (key != null && key.isBlank()) key = null;
        Backend be = BackendOption.create(backend, threads);
        CountDownLatch stopped = new CountDownLatch(1), closed = new CountDownLatch(1);
        // SIGTERM / Ctrl-C: the hook wakes the main thread, which drains, then waits for it to close everything
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopped.countDown();
            try {
                closed.await(drainTimeout + 20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "polyv-serve-stop"));
        try (PolyV polyv = PolyV.load(model, be, tok)) {
            long rowBytes = GenerationService.kvBytesPerRow(polyv);
            double gb = kvCacheGb != null ? kvCacheGb : be.name().startsWith("cuda") ? 0 : physicalMemoryBytes() / 4.0 / (1L << 30);
            long kvRows = (long) (gb * (1L << 30) / rowBytes);
            if (gb > 0 && kvRows < 1) throw new IllegalArgumentException("--kv-cache-gb " + gb + " holds no KV row (" + rowBytes + " bytes each)");
            ChatRequests.Defaults defaults = generationDefaults(model, maxTokens);
            try (GenerationService service = new GenerationService(polyv, new GenerationService.Options(maxBatch, prefixCache, prefillChunk, kvRows));
                 ChatServer server = start(service, new ChatServer.Options().defaults(defaults).maxQueue(maxQueue).maxBodyBytes((long) maxBodyMb << 20)
                         .readTimeoutSeconds(readTimeout).requestTimeout(Duration.ofSeconds(requestTimeout)).apiKey(key).corsOrigin(cors)
                         .log(System.err::println).ready(false))) {
                System.err.printf(Locale.ROOT, "polyv serve: %s on http://%s:%d (backend %s, max batch %d, max queue %d, prefix cache %d)%n", model,
                        host, server.port(), be.name(), maxBatch, maxQueue, prefixCache);
                System.err.printf(Locale.ROOT, "polyv serve: KV cache budget %s (%d bytes per token of capacity); heap max %.2f GiB%s; "
                                + "defaults temperature %s, top_p %s, max tokens %d%s%s%n",
                        kvRows == 0 ? "none" : String.format(Locale.ROOT, "%.2f GB = %d tokens", gb, kvRows), rowBytes,
                        Runtime.getRuntime().maxMemory() / (double) (1L << 30),
                        System.getenv("POLYV_HEAP_NOTE") != null ? " (" + System.getenv("POLYV_HEAP_NOTE") + ")" : "",
                        defaults.temperature(), defaults.topP(), defaults.maxTokens(), key != null ? "; API key required" : "",
                        cors != null ? "; CORS " + cors : "");
                long t0 = System.nanoTime();
                service.submit(GenerationRequest.builder("Hello").maxNewTokens(2).build(), (id, text) -> { }).join();   // warm-up
                server.markReady();
                System.err.printf(Locale.ROOT, "polyv serve: ready (warm-up %.2f s); SIGTERM or Ctrl-C drains and stops%n", (System.nanoTime() - t0) / 1e9);
                stopped.await();
                System.err.printf(Locale.ROOT, "polyv serve: draining (%d requests in flight, up to %d s)%n", server.inFlight(), drainTimeout);
                boolean clean = server.drain(Duration.ofSeconds(drainTimeout));
                System.err.println("polyv serve: " + (clean ? "drained; stopping" : "drain timeout: requests left were cancelled; stopping"));
            }
        } finally {
            closed.countDown();
        }
        return 0;
    }

    /**
     * The sampling defaults: OpenAI's (temperature 1, top_p 1), unless the checkpoint's {@code generation_config.json}
     * gives {@code temperature}, {@code top_p} or {@code top_k} (with {@code do_sample: false}: greedy).
     */
    static ChatRequests.Defaults generationDefaults(Path dir, int maxTokens) {
        ChatRequests.Defaults d = ChatRequests.Defaults.openAi(maxTokens);
        Path f = dir.resolve("generation_config.json");
        if (!Files.isRegularFile(f)) return d;
        try {
            JsonNode g = new ObjectMapper().readTree(f.toFile());
            double t = g.path("do_sample").isBoolean() && !g.get("do_sample").asBoolean() ? 0 : g.path("temperature").asDouble(d.temperature());
            double p = g.path("top_p").asDouble(d.topP());
            int k = g.path("top_k").asInt(d.topK());
            return new ChatRequests.Defaults(maxTokens, t, p, k);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private static long physicalMemoryBytes() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    }

    private ChatServer start(GenerationService service, ChatServer.Options options) {
        try {
            return new ChatServer(service, model.toAbsolutePath().normalize().getFileName().toString(), host, port, options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }
}

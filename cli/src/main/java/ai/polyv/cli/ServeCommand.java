package ai.polyv.cli;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.serve.ChatServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code polyv serve}: an OpenAI-style chat-completions HTTP server over one model, concurrent requests decoded together. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP: POST /v1/chat/completions (OpenAI chat format; \"stream\": true for server-sent events; "
                + "images as data URLs in the first user message), GET /v1/models, GET /health, GET /metrics.",
                "Concurrent requests are decoded together (continuous batching, up to --max-batch). Runs until interrupted (Ctrl-C)."})
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
            description = "budget of a request without max_tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

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
        if (prefixCache < 0) throw new IllegalArgumentException("--prefix-cache must be >= 0, got " + prefixCache);
        if (prefillChunk < 0) throw new IllegalArgumentException("--prefill-chunk must be >= 0, got " + prefillChunk);
        Backend be = BackendOption.create(backend, threads);
        CountDownLatch stopped = new CountDownLatch(1), closed = new CountDownLatch(1);
        try (PolyV polyv = PolyV.load(model, be, tok); GenerationService service = new GenerationService(polyv, new GenerationService.Options(maxBatch, prefixCache, prefillChunk));
             ChatServer server = start(service)) {
            // Ctrl-C: stop accepting, let the requests in flight finish (the hook waits up to 30 s for that)
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopped.countDown();
                try {
                    closed.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "polyv-serve-stop"));
            System.err.printf(Locale.ROOT, "polyv serve: %s on http://%s:%d (backend %s, max batch %d, prefix cache %d); Ctrl-C to stop%n", model,
                    host, server.port(), be.name(), maxBatch, prefixCache);
            stopped.await();
            System.err.println("polyv serve: stopping");
        } finally {
            closed.countDown();
        }
        return 0;
    }

    private ChatServer start(GenerationService service) {
        try {
            return new ChatServer(service, model.toAbsolutePath().normalize().getFileName().toString(), host, port, maxTokens);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }
}

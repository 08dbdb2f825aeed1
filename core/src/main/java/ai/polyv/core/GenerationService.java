package ai.polyv.core;

import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Generator;
import ai.polyv.core.generate.TextStream;
import ai.polyv.core.generate.TokenConsumer;
import ai.polyv.core.model.PrefixCache;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A thread-safe front of a {@link PolyV} for many concurrent callers (a JVM service): {@link #submit} queues a
 * request and returns at once; one worker thread runs every request with continuous batching, up to
 * {@code maxBatch} sequences decoding together (one pass over the weights per step for all of them). Requests
 * that arrive while others are decoding are prefilled between two steps (together, when several are waiting) and
 * join the batch at the next.
 *
 * <pre>{@code
 * try (var polyv = PolyV.load(dir, Backend.cpu()); var service = new GenerationService(polyv, 8)) {
 *     CompletableFuture<GenerationResult> a = service.submit(GenerationRequest.of("Hello"), (id, text) -> System.out.print(text));
 *     CompletableFuture<GenerationResult> b = service.submit(GenerationRequest.of("Bonjour"), TokenConsumer.NONE);
 *     System.out.println(a.join().text() + " / " + b.join().text());
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Each request gets what it would get alone (greedy: the same ids; seeded sampling: the same draws, up to the
 *       last-bit differences of batched float sums).</li>
 *   <li>{@code onToken} is called on the worker thread, in order, for each request; if it throws, that request's
 *       future fails with the exception and the request leaves the batch (the others go on).</li>
 *   <li>A request that cannot run (unreadable image, prompt too long, ...) fails its own future only.</li>
 *   <li>{@code future.cancel(...)} removes a request from the queue or from the batch at the next step.</li>
 *   <li>{@link #close} stops new submissions, lets every submitted request finish, and joins the worker; it does
 *       not close the {@link PolyV}. While a service is open, do not call {@code polyv.generate} yourself.</li>
 *   <li>A prefill runs between two decode steps and delays the other sequences by its duration (no chunked
 *       prefill yet).</li>
 * </ul>
 */
public final class GenerationService implements AutoCloseable {

    /** A submitted request; {@code prepared} is null when the worker prepares it. */
    private record Pending(GenerationRequest request, PolyV.Prepared prepared, TokenConsumer onToken, CompletableFuture<GenerationResult> future) {}

    /** A request in the batch. */
    private static final class Running {
        final Pending pending;
        final PolyV.Prepared prepared;
        final TextStream stream;
        RuntimeException consumerFailure;

        Running(Pending pending, PolyV.Prepared prepared, TextStream stream) {
            this.pending = pending;
            this.prepared = prepared;
            this.stream = stream;
        }
    }

    /**
     * Counters since the service started.
     *
     * @param submitted       requests accepted by {@link #submit}
     * @param completed       requests whose future completed with a result
     * @param failed          requests whose future completed with an error (not a cancellation)
     * @param cancelled       requests cancelled by their caller
     * @param queued          requests waiting for a slot now
     * @param active          sequences in the batch now
     * @param generatedTokens tokens streamed to the callers
     * @param decodeSteps     batched decode steps run
     * @param meanBatch       sequences per decode step, on average (0 before the first step)
     * @param reusedPromptTokens prompt tokens served from the prefix cache instead of being prefilled
     * @param kvRowsInUse     KV rows held by the sequences in the batch (each holds its prompt and budget from admission)
     * @param kvRowsBudget    the most KV rows the batch may hold ({@link Options#kvBudgetRows}); 0: no limit
     */
    public record Stats(long submitted, long completed, long failed, long cancelled, int queued, int active, long generatedTokens,
                        long decodeSteps, double meanBatch, long reusedPromptTokens, long kvRowsInUse, long kvRowsBudget) {
        /** The fraction of the KV budget in use, in [0, 1] (0 without a budget). */
        public double kvUsage() {
            return kvRowsBudget == 0 ? 0 : Math.min(1, (double) kvRowsInUse / kvRowsBudget);
        }
    }

    private final PolyV polyv;
    private final int maxBatch;
    private final java.util.concurrent.atomic.LongAdder submitted = new java.util.concurrent.atomic.LongAdder(),
            completed = new java.util.concurrent.atomic.LongAdder(), failed = new java.util.concurrent.atomic.LongAdder(),
            cancelled = new java.util.concurrent.atomic.LongAdder();
    /** Shorter shared prefixes are prefilled again (reuse would not pay for the bookkeeping). */
    public static final int MIN_REUSED_PREFIX = 16;

    private final PrefixCache cache;   // null: no reuse
    private final int prefillChunk;    // 0: whole prompts
    private volatile long generatedTokens, decodeSteps, stepSequences, reusedTokens;   // written by the worker only
    private volatile int active, held;                  // held: 1 while a prepared request waits for KV room
    private volatile long kvInUse;
    private final long kvBudget;       // 0: no limit
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Object submitLock = new Object();
    private final Thread worker;
    private volatile boolean closed;

    /**
     * How the service batches.
     *
     * @param maxBatch            sequences decoded together
     * @param prefixCacheSessions finished sessions kept so that a request that starts like an earlier one (the next
     *                            turn of a chat, with the same picture) reuses its KV rows and skips their prefill and
     *                            vision encoding ({@link PrefixCache}; at least {@value #MIN_REUSED_PREFIX} tokens);
     *                            0: none. Each kept session holds its KV cache: size the count to the memory
     * @param prefillChunk        prompts longer than this are prefilled in pieces of this many tokens, one piece per
     *                            decode step, so the others keep decoding meanwhile; 0: whole prompts
     * @param kvBudgetRows        admission by memory: a request joins the batch only when the KV rows of the batch
     *                            ({@link Generator#kvRows}: prompt + budget of each sequence) stay within this many;
     *                            the next request waits (in order) until enough sequences end, and one that could never
     *                            fit fails with an {@link IllegalArgumentException}. 0: no limit. Rows of finished
     *                            sessions kept by the prefix cache are not counted. {@link #kvBytesPerRow} converts
     */
    public record Options(int maxBatch, int prefixCacheSessions, int prefillChunk, long kvBudgetRows) {
        public Options(int maxBatch, int prefixCacheSessions, int prefillChunk) {
            this(maxBatch, prefixCacheSessions, prefillChunk, 0);
        }

        public Options {
            if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
            if (kvBudgetRows < 0) throw new IllegalArgumentException("KV budget must be >= 0 rows, got " + kvBudgetRows);
            if (prefixCacheSessions < 0) throw new IllegalArgumentException("prefix cache sessions must be >= 0, got " + prefixCacheSessions);
            if (prefillChunk < 0) throw new IllegalArgumentException("prefill chunk must be >= 0, got " + prefillChunk);
        }
    }

    /** Starts the worker thread ({@code polyv-generation}, a daemon): no prefix reuse, whole-prompt prefills. */
    public GenerationService(PolyV polyv, int maxBatch) {
        this(polyv, new Options(maxBatch, 0, 0));
    }

    /** Starts the worker thread with these options. */
    public GenerationService(PolyV polyv, Options options) {
        this.polyv = Objects.requireNonNull(polyv, "polyv");
        this.maxBatch = options.maxBatch();
        this.prefillChunk = options.prefillChunk();
        this.kvBudget = options.kvBudgetRows();
        this.cache = options.prefixCacheSessions() == 0 ? null : new PrefixCache(options.prefixCacheSessions(), MIN_REUSED_PREFIX);
        this.worker = new Thread(this::run, "polyv-generation");
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Queues a request; the future completes with its result, or exceptionally with what stopped it.
     *
     * @throws IllegalStateException after {@link #close}
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenConsumer onToken) {
        Objects.requireNonNull(request, "request");
        return enqueue(new Pending(request, null, Objects.requireNonNull(onToken, "onToken"), new CompletableFuture<>()));
    }

    /**
     * Reads the request's visuals and builds its prompt on the calling thread (not the worker's), and checks that it
     * can run: the prompt fits the model's context and its KV rows fit the budget. A server calls it on the client's
     * thread so that bad requests are answered before anything is sent, and big ones do not stall the batch.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public PolyV.Prepared prepare(GenerationRequest request) {
        PolyV.Prepared p = polyv.prepare(request);
        int context = contextLength(), prompt = p.job().promptIds().length;
        if (prompt >= context) {
            throw new IllegalArgumentException("prompt too long: " + prompt + " tokens, the model's context (max_position_embeddings) is "
                    + context + " and at least one token must be generated");
        }
        int need = Generator.kvRows(p.job(), context);
        if (kvBudget > 0 && need > kvBudget) throw tooBig(need);
        return p;
    }

    /** Queues a request made by {@link #prepare}; as {@link #submit(GenerationRequest, TokenConsumer)}. */
    public CompletableFuture<GenerationResult> submit(PolyV.Prepared prepared, TokenConsumer onToken) {
        Objects.requireNonNull(prepared, "prepared");
        return enqueue(new Pending(prepared.request(), prepared, Objects.requireNonNull(onToken, "onToken"), new CompletableFuture<>()));
    }

    /** The model's tokenizer, if it has one. */
    public java.util.Optional<ai.polyv.tokenizer.Tokenizer> tokenizer() {
        return polyv.tokenizer();
    }

    private IllegalArgumentException tooBig(int need) {
        return new IllegalArgumentException("the request needs " + need
                + " KV rows (prompt + max tokens), more than the server's KV cache budget of " + kvBudget + " rows");
    }

    private CompletableFuture<GenerationResult> enqueue(Pending pending) {
        CompletableFuture<GenerationResult> future = pending.future();
        synchronized (submitLock) {
            if (closed) throw new IllegalStateException("the generation service is closed");
            queue.add(pending);
        }
        submitted.increment();
        future.whenComplete((r, e) -> (e == null ? completed : e instanceof CancellationException ? cancelled : failed).increment());
        return future;
    }

    /** Requests submitted and not yet admitted into the batch. */
    public int queued() {
        return queue.size() + held;
    }

    /** Bytes of F32 KV cache one token of a session's capacity takes: keys and values of every layer. */
    public static long kvBytesPerRow(PolyV polyv) {
        var t = polyv.model().dims().text();
        return 2L * t.layers() * t.kvHeads() * t.headDim() * Float.BYTES;
    }

    /** The model's context (max_position_embeddings): no sequence holds more KV rows. */
    public int contextLength() {
        return polyv.config().text().maxPositionEmbeddings();
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** A snapshot of the counters (consistent enough for monitoring; not a transaction). */
    public Stats stats() {
        long steps = decodeSteps;
        return new Stats(submitted.sum(), completed.sum(), failed.sum(), cancelled.sum(), queued(), active, generatedTokens, steps,
                steps == 0 ? 0 : (double) stepSequences / steps, reusedTokens, kvInUse, kvBudget);
    }

    /** No new submissions; every submitted request still runs to its end; returns once the worker has stopped. */
    @Override
    public void close() {
        synchronized (submitLock) {
            closed = true;
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the generation worker", e);
        }
    }

    private void run() {
        Map<Integer, Running> running = new LinkedHashMap<>();
        Map<Integer, Integer> rows = new java.util.HashMap<>();       // KV rows of each running sequence
        int nextId = 0, context = contextLength();
        Running waiting = null;                                       // prepared, waiting for KV room (admitted first)
        Generator gen = new Generator(polyv.model());
        try (Generator.Batch batch = prefillChunk > 0 ? gen.newBatch(cache, prefillChunk) : cache == null ? gen.newBatch() : gen.newBatch(cache)) {
            while (true) {
                // admit: wait for work only when the batch is empty; what arrived together is prefilled together
                List<Integer> ids = new ArrayList<>();
                List<Running> fresh = new ArrayList<>();
                long kv = rows.values().stream().mapToLong(Integer::longValue).sum();
                while (batch.size() + fresh.size() < maxBatch) {
                    Running r = waiting;
                    waiting = null;
                    if (r != null && r.pending.future().isDone()) r = null;   // cancelled while it waited
                    if (r == null) {
                        Pending p = batch.size() + fresh.size() == 0 ? queue.poll(50, TimeUnit.MILLISECONDS) : queue.poll();
                        if (p == null) break;
                        if (p.future().isDone()) continue;                       // cancelled while queued
                        try {
                            r = new Running(p, p.prepared() != null ? p.prepared() : polyv.prepare(p.request()), polyv.textStream(p.request(), p.onToken()));
                        } catch (RuntimeException e) {
                            p.future().completeExceptionally(e);
                            continue;
                        }
                    }
                    int need = Generator.kvRows(r.prepared.job(), context);
                    if (kvBudget > 0 && need > kvBudget) {
                        r.pending.future().completeExceptionally(tooBig(need));
                        continue;
                    }
                    if (kvBudget > 0 && kv + need > kvBudget) {                // no room yet: first in line when some frees
                        waiting = r;
                        break;
                    }
                    kv += need;
                    ids.add(nextId++);
                    fresh.add(r);
                }
                held = waiting == null ? 0 : 1;
                try {
                    batch.admit(ids, fresh.stream().map(r -> r.prepared.job()).toList());
                    for (int i = 0; i < ids.size(); i++) running.put(ids.get(i), fresh.get(i));
                    for (int i = 0; i < ids.size(); i++) rows.put(ids.get(i), Generator.kvRows(fresh.get(i).prepared.job(), context));
                } catch (RuntimeException together) {
                    for (int i = 0; i < ids.size(); i++) {                    // one of them is bad: admit one by one
                        try {
                            batch.admit(ids.get(i), fresh.get(i).prepared.job());
                            running.put(ids.get(i), fresh.get(i));
                            rows.put(ids.get(i), Generator.kvRows(fresh.get(i).prepared.job(), context));
                        } catch (RuntimeException e) {
                            fresh.get(i).pending.future().completeExceptionally(e);
                        }
                    }
                }
                kvInUse = rows.values().stream().mapToLong(Integer::longValue).sum();
                if (batch.size() == 0) {
                    active = 0;
                    if (closed && queue.isEmpty() && waiting == null) return;
                    continue;
                }
                // cancelled futures leave before the step
                for (var it = running.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (e.getValue().pending.future().isDone()) {
                        batch.cancel(e.getKey());
                        rows.remove(e.getKey());
                        it.remove();
                    }
                }
                reusedTokens = batch.reusedRows();
                if (batch.size() == 0) {
                    active = 0;
                    kvInUse = 0;
                    continue;
                }
                active = batch.size();
                try {
                    for (Generator.Batch.Finished f : batch.step((id, token) -> push(running.get(id), token))) {
                        Running r = running.remove(f.id());
                        rows.remove(f.id());
                        if (r.consumerFailure != null) continue;             // already failed
                        try {
                            r.pending.future().complete(r.prepared.result(f.result(), r.stream.finish()));
                        } catch (RuntimeException e) {
                            r.pending.future().completeExceptionally(e);
                        }
                    }
                } catch (RuntimeException e) {
                    // a failed decode step: every request in it fails, the batch starts over
                    for (var r : running.entrySet()) {
                        batch.cancel(r.getKey());
                        r.getValue().pending.future().completeExceptionally(e);
                    }
                    running.clear();
                    rows.clear();
                }
                decodeSteps = batch.decodeSteps();
                stepSequences = batch.decodedTokens();
                active = batch.size();
                // requests whose consumer threw leave the batch
                for (var it = running.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (e.getValue().consumerFailure != null) {
                        batch.cancel(e.getKey());
                        rows.remove(e.getKey());
                        it.remove();
                    }
                }
                active = batch.size();
                kvInUse = rows.values().stream().mapToLong(Integer::longValue).sum();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // the worker only returns with work left when it was interrupted or hit an Error: nothing may wait forever
            synchronized (submitLock) {
                closed = true;
            }
            CancellationException stop = new CancellationException("the generation worker stopped");
            running.values().forEach(r -> r.pending.future().completeExceptionally(stop));
            if (waiting != null) waiting.pending.future().completeExceptionally(stop);
            for (Pending p; (p = queue.poll()) != null; ) p.future().completeExceptionally(stop);
            if (cache != null) cache.close();
        }
    }

    /** Streams a token; true when the request's text reached one of its stop strings (the sequence ends). */
    private boolean push(Running r, int token) {
        generatedTokens++;
        if (r.consumerFailure != null) return false;
        try {
            return r.stream.push(token);
        } catch (RuntimeException e) {
            r.consumerFailure = e;
            r.pending.future().completeExceptionally(e);
            return false;
        }
    }
}

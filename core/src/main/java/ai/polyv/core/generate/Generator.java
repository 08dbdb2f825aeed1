package ai.polyv.core.generate;

import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.PrefixCache;
import ai.polyv.core.model.RoutingStats;
import ai.polyv.core.model.Session;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.sampling.Sampler;
import ai.polyv.core.sampling.SamplingOptions;
import ai.polyv.core.sampling.StopTokens;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Token-level generation: one {@link Session} per sequence, the prompt prefilled (vision inputs
 * encoded and spliced in), then one decode step per generated token until a stop token, the
 * token budget or the model's context ({@code max_position_embeddings}) is reached. The first
 * token comes from the prefill's logits; a stop token ends generation and is not emitted.
 * Several sequences decode together with continuous batching ({@link #generate(List, int, IdListener)}).
 */
public final class Generator {

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, STOP_STRING, MAX_NEW_TOKENS, CONTEXT_FULL }

    /**
     * Outcome of one generation.
     *
     * @param tokens       generated ids (stop token excluded)
     * @param stopReason   why it ended
     * @param promptTokens prompt length
     * @param prefillNanos wall time of the prefill (vision encoding included)
     * @param visionNanos  part of the prefill spent in the vision encoder
     * @param decodeNanos  wall time of the decode steps
     * @param decodeSteps  number of decode steps run
     * @param routing      tokens per expert per MoE layer and modality (prompt and generated tokens)
     */
    public record Result(int[] tokens, StopReason stopReason, int promptTokens, long prefillNanos, long visionNanos, long decodeNanos,
                         int decodeSteps, RoutingStats routing) {
        public double prefillMillis() {
            return prefillNanos / 1e6;
        }

        /** Prompt tokens per second of prefill. */
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens / (prefillNanos / 1e9);
        }

        /** Decode steps per second (0 when no step ran). */
        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : decodeSteps / (decodeNanos / 1e9);
        }
    }

    /**
     * One sequence to generate.
     *
     * @param promptIds    {@code [promptTokens]} ids with one placeholder per merged vision token
     * @param vision       vision inputs in prompt order
     * @param maxNewTokens budget of generated tokens, at least 1
     */
    public record Job(int[] promptIds, List<VisionInput> vision, int maxNewTokens, SamplingOptions sampling, StopTokens stops) {
        public Job {
            promptIds = promptIds.clone();
            vision = List.copyOf(vision);
            Objects.requireNonNull(sampling, "sampling");
            Objects.requireNonNull(stops, "stops");
            if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
    }

    private final PolyVModel model;

    public Generator(PolyVModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * Runs one generation.
     *
     * @param promptIds    {@code [promptTokens]} ids with one placeholder per merged vision token
     * @param vision       vision inputs in prompt order
     * @param maxNewTokens budget of generated tokens, at least 1
     * @param onToken      receives each generated id as soon as it is chosen
     */
    public Result generate(int[] promptIds, List<VisionInput> vision, int maxNewTokens, SamplingOptions sampling,
                           StopTokens stops, IntConsumer onToken) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        return generate(List.of(new Job(promptIds, vision, maxNewTokens, sampling, stops)), 1, (job, id) -> {
            onToken.accept(id);
            return false;
        }).get(0);
    }

    /**
     * Runs several generations with continuous batching: up to {@code maxBatch} sequences decode together
     * ({@link Session#decode(List, int[])}: one pass over the weights per step for the whole batch); jobs
     * admitted at the same time are prefilled together ({@link Session#prefill(List, List, List)}); when
     * one ends, the next waiting job is prefilled and joins the batch at the following step. Jobs are
     * admitted in list order; each has its own sampler (a seeded job draws the same tokens as it would
     * alone) and its own KV cache of prompt + budget tokens. A job's {@code decodeNanos} is the wall time of
     * the batched steps it took part in. Returns the results in job order.
     */
    public List<Result> generate(List<Job> jobs, int maxBatch, IdListener onToken) {
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        Objects.requireNonNull(onToken, "onToken");
        checkPrompts(java.util.stream.IntStream.range(0, jobs.size()).boxed().toList(), jobs);   // all, before any runs
        Result[] results = new Result[jobs.size()];
        try (Batch batch = newBatch()) {
            int admitted = 0;
            while (admitted < jobs.size() || batch.size() > 0) {
                // the jobs that fit are prefilled together
                List<Integer> ids = new ArrayList<>();
                while (batch.size() + ids.size() < maxBatch && admitted < jobs.size()) ids.add(admitted++);
                batch.admit(ids, ids.stream().map(jobs::get).toList());
                for (Batch.Finished f : batch.step(onToken)) results[f.id()] = f.result();
            }
        }
        return List.of(results);
    }

    /** KV rows a job's session holds from its admission to its end: its prompt and budget, at most the model's context. */
    public static int kvRows(Job job, int context) {
        return (int) Math.min((long) job.promptIds().length + job.maxNewTokens(), context);
    }

    /** An empty batch to admit sequences into and step ({@link Batch}). */
    public Batch newBatch() {
        return new Batch(null, 0);
    }

    /**
     * An empty batch that reuses KV prefixes: a job whose prompt starts like a session in {@code cache} (the
     * next turn of a conversation) takes it over, or copies its rows, and prefills only the rest; finished
     * sessions go into the cache instead of being closed. The cache outlives the batch (the caller closes it).
     */
    public Batch newBatch(PrefixCache cache) {
        return new Batch(Objects.requireNonNull(cache, "cache"), 0);
    }

    /**
     * A batch with chunked prefill: a prompt longer than {@code prefillChunk} tokens is prefilled in pieces, one
     * per {@link Batch#step}, so that the other sequences keep decoding meanwhile instead of waiting for the whole
     * prompt (the first piece reaches past the prompt's last vision placeholder: the vision encoder runs once).
     * {@code cache} may be null (no prefix reuse).
     */
    public Batch newBatch(PrefixCache cache, int prefillChunk) {
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1 token, got " + prefillChunk);
        return new Batch(cache, prefillChunk);
    }

    /** {@link #checkPrompt} for each job; the error names the job's id when there are several. */
    private void checkPrompts(List<Integer> ids, List<Job> jobs) {
        for (int i = 0; i < jobs.size(); i++) {
            try {
                checkPrompt(jobs.get(i));
            } catch (IllegalArgumentException e) {
                throw jobs.size() == 1 ? e : new IllegalArgumentException("job " + ids.get(i) + ": " + e.getMessage(), e);
            }
        }
    }

    private void checkPrompt(Job job) {
        int context = model.config().text().maxPositionEmbeddings(), n = job.promptIds().length;
        if (n >= context) {
            throw new IllegalArgumentException("prompt too long: " + n + " tokens, the model's context (max_position_embeddings) is "
                    + context + " and at least one token must be generated");
        }
    }

    /**
     * The sequences being generated together, advanced one step at a time by the caller (the loop of
     * {@link #generate(List, int, IdListener)}, or a scheduler that admits requests as they arrive). Each
     * {@link #step} samples one token for every sequence, retires the finished ones and decodes the rest
     * together. Not thread-safe; close it to free the KV caches of sequences still in it.
     */
    public final class Batch implements AutoCloseable {
        private final List<Slot> active = new ArrayList<>();

        private final PrefixCache cache;   // null: no reuse
        private final int prefillChunk;    // 0: whole prompts
        private long reusedRows, prefillPieces, decodeSteps, decodedTokens;

        private Batch(PrefixCache cache, int prefillChunk) {
            this.cache = cache;
            this.prefillChunk = prefillChunk;
        }

        /** Batched decode steps run, and the sequences they decoded in all (their ratio is the mean batch). */
        public long decodeSteps() {
            return decodeSteps;
        }

        public long decodedTokens() {
            return decodedTokens;
        }

        /** Prompt pieces fed after the first one by chunked prefill, since the batch was made. */
        public long prefillPieces() {
            return prefillPieces;
        }

        /** Prompt rows served from the prefix cache instead of being prefilled, since the batch was made. */
        public long reusedRows() {
            return reusedRows;
        }

        /** A sequence that ended in the last step, with the id it was admitted under. */
        public record Finished(int id, Result result) {}

        /** Sequences in the batch. */
        public int size() {
            return active.size();
        }

        /**
         * Prefills {@code job} and adds it under {@code id} (ids are the caller's; they must be unique in the
         * batch); its first token is sampled at the next {@link #step}. On bad input it throws and nothing is added.
         */
        public void admit(int id, Job job) {
            admit(List.of(id), List.of(job));
        }

        /**
         * Prefills {@code jobs} together (one pass of the stacked prompts) and adds them under {@code ids}. On bad
         * input it throws and nothing is added (a caller that wants the good jobs in can admit them one by one).
         */
        public void admit(List<Integer> ids, List<Job> jobs) {
            if (ids.size() != jobs.size()) throw new IllegalArgumentException(ids.size() + " ids for " + jobs.size() + " jobs");
            if (jobs.isEmpty()) return;
            Set<Integer> fresh = new HashSet<>();
            for (int id : ids) {
                if (!fresh.add(id)) throw new IllegalArgumentException("id " + id + " is given twice");
                for (Slot s : active) if (s.index == id) throw new IllegalArgumentException("id " + id + " is already in the batch");
            }
            checkPrompts(ids, jobs);
            int context = model.config().text().maxPositionEmbeddings();
            List<Integer> freshIds = new ArrayList<>();
            List<Job> freshJobs = new ArrayList<>();
            List<Slot> resumed = new ArrayList<>();
            try {
                for (int i = 0; i < jobs.size(); i++) {
                    PrefixCache.Hit hit = cache == null ? null : cache.take(jobs.get(i).promptIds(), jobs.get(i).vision(), model.dims());
                    if (hit == null) {
                        freshIds.add(ids.get(i));
                        freshJobs.add(jobs.get(i));
                    } else {
                        resumed.add(Slot.resume(model, ids.get(i), jobs.get(i), hit, cache, context));
                        reusedRows += hit.rows();
                    }
                }
                if (!freshJobs.isEmpty()) active.addAll(Slot.prefill(model, freshIds, freshJobs, context, prefillChunk));
            } catch (RuntimeException e) {
                resumed.forEach(r -> r.session.close());
                throw e;
            }
            active.addAll(resumed);
        }

        /** Removes sequence {@code id} without a result (its cache is freed); false when it is not in the batch. */
        public boolean cancel(int id) {
            for (var it = active.iterator(); it.hasNext(); ) {
                Slot s = it.next();
                if (s.index == id) {
                    it.remove();
                    s.session.close();
                    return true;
                }
            }
            return false;
        }

        /**
         * One step: every sequence samples its next token from its current logits (passed to {@code onToken}),
         * the finished ones leave the batch and are returned, and the others decode that token together; a listener
         * that returns true ends that sequence ({@link StopReason#STOP_STRING}).
         */
        public List<Finished> step(IdListener onToken) {
            List<Finished> done = new ArrayList<>();
            for (Slot s : active) {                                  // chunked prefill: one more piece each
                if (s.pending != null) {
                    s.feedPiece(prefillChunk);
                    prefillPieces++;
                }
            }
            for (var it = active.iterator(); it.hasNext(); ) {
                Slot s = it.next();
                if (s.pending != null) continue;                      // still prefilling: no token yet
                StopReason reason = s.sampleNext(onToken);
                if (reason != null) {
                    done.add(new Finished(s.index, s.finish(reason, cache)));
                    it.remove();
                }
            }
            List<Slot> ready = active.stream().filter(s -> s.pending == null).toList();
            if (ready.isEmpty()) return done;
            List<Session> sessions = new ArrayList<>(ready.size());
            int[] next = new int[ready.size()];
            for (int i = 0; i < next.length; i++) {
                sessions.add(ready.get(i).session);
                next[i] = ready.get(i).next;
            }
            long t1 = System.nanoTime();
            float[][] logits = Session.decode(sessions, next);
            long dt = System.nanoTime() - t1;
            for (int i = 0; i < next.length; i++) ready.get(i).stepped(logits[i], dt);
            decodeSteps++;
            decodedTokens += next.length;
            return done;
        }

        @Override
        public void close() {
            for (Slot s : active) s.session.close();
            active.clear();
        }
    }

    /** A job being generated: its session, sampler and tokens so far. */
    private static final class Slot {
        final int index;
        final Job job;
        final Session session;
        final Sampler sampler;
        final int capacity;
        long prefillNanos;
        int[] pending;         // prompt ids still to feed (chunked prefill), or null
        final int[] out;
        int n, steps, next;
        long decodeNanos;
        float[] logits;

        private Slot(int index, Job job, Session session, int capacity, long prefillNanos, float[] logits) {
            this.index = index;
            this.job = job;
            this.session = session;
            this.sampler = Sampler.of(job.sampling());
            this.capacity = capacity;
            this.prefillNanos = prefillNanos;
            this.out = new int[Math.min(job.maxNewTokens(), capacity - job.promptIds().length + 1)];
            this.logits = logits;
        }

        /** Sessions for {@code jobs}, prefilled together ({@link Session#prefill(List, List, List)}); each slot's prefill time is the batch's. */
        static List<Slot> prefill(PolyVModel model, List<Integer> indices, List<Job> jobs, int context, int chunk) {
            List<Session> sessions = new ArrayList<>(jobs.size());
            List<Integer> capacities = new ArrayList<>(jobs.size());
            List<int[]> firstParts = new ArrayList<>(jobs.size());
            try {
                for (Job job : jobs) {
                    int capacity = kvRows(job, context);
                    capacities.add(capacity);
                    sessions.add(model.newSession(capacity));
                    firstParts.add(Arrays.copyOf(job.promptIds(), firstPart(model, job.promptIds(), chunk)));
                }
                long t0 = System.nanoTime();
                float[][] logits = Session.prefill(sessions, firstParts, jobs.stream().map(Job::vision).toList());
                long nanos = System.nanoTime() - t0;
                List<Slot> out = new ArrayList<>(jobs.size());
                for (int i = 0; i < jobs.size(); i++) {
                    Slot slot = new Slot(indices.get(i), jobs.get(i), sessions.get(i), capacities.get(i), nanos, logits[i]);
                    int[] p = jobs.get(i).promptIds();
                    int first = firstParts.get(i).length;
                    if (first < p.length) slot.pending = Arrays.copyOfRange(p, first, p.length);
                    out.add(slot);
                }
                return out;
            } catch (RuntimeException e) {
                sessions.forEach(Session::close);
                throw e;
            }
        }

        /** Prompt tokens of the first prefill: all, or with chunking at least {@code chunk} and past the last vision placeholder. */
        static int firstPart(PolyVModel model, int[] prompt, int chunk) {
            if (chunk <= 0 || prompt.length <= chunk) return prompt.length;
            int image = model.dims().tokens().imageTokenId(), video = model.dims().tokens().videoTokenId(), last = -1;
            for (int i = 0; i < prompt.length; i++) if (prompt[i] == image || prompt[i] == video) last = i;
            return Math.min(prompt.length, Math.max(chunk, last + 1));
        }

        /** Feeds the next piece of the pending prompt; the last piece's logits are where sampling starts. */
        void feedPiece(int chunk) {
            int take = Math.min(chunk, pending.length);
            long t0 = System.nanoTime();
            float[] l = session.extend(Arrays.copyOf(pending, take));
            prefillNanos += System.nanoTime() - t0;
            pending = take == pending.length ? null : Arrays.copyOfRange(pending, take, pending.length);
            if (pending == null) logits = l;
        }

        /**
         * A slot for {@code job} from a cached session whose first {@code hit.rows()} rows it shares: the session
         * itself when it has room for the job (truncated to the prefix), else a new one with the prefix copied; the
         * rest of the prompt (with the vision inputs the prefix does not hold) is fed by {@link Session#extend(int[], List)}.
         * A copied-from session goes back to the cache.
         */
        static Slot resume(PolyVModel model, int index, Job job, PrefixCache.Hit hit, PrefixCache cache, int context) {
            int capacity = kvRows(job, context);
            Session session = hit.session();
            long t0 = System.nanoTime();
            try {
                if (session.maxTokens() >= capacity) {
                    session.truncate(hit.rows());
                } else {
                    Session bigger = model.newSession(capacity);
                    try {
                        bigger.copyPrefix(session, hit.rows());
                    } catch (RuntimeException e) {
                        bigger.close();
                        throw e;
                    }
                    cache.offer(session);
                    session = bigger;
                }
                // the prefix holds the prompt's first vision inputs; the others (images of the new turn) come with the rest
                List<VisionInput> rest = job.vision().subList(session.visionInputs().size(), job.vision().size());
                float[] logits = session.extend(Arrays.copyOfRange(job.promptIds(), hit.rows(), job.promptIds().length), rest);
                return new Slot(index, job, session, capacity, System.nanoTime() - t0, logits);
            } catch (RuntimeException e) {
                session.close();
                throw e;
            }
        }

        /** Samples from the current logits; returns why the job ended, or null when it needs another step. */
        StopReason sampleNext(IdListener onToken) {
            int id = sampler.sample(logits);
            if (job.stops().isStop(id)) return StopReason.STOP_TOKEN;
            out[n++] = id;
            if (onToken.accept(index, id)) return StopReason.STOP_STRING;
            if (n >= job.maxNewTokens()) return StopReason.MAX_NEW_TOKENS;
            if (session.length() >= capacity) return StopReason.CONTEXT_FULL;
            next = id;
            return null;
        }

        void stepped(float[] logits, long nanos) {
            this.logits = logits;
            decodeNanos += nanos;
            steps++;
        }

        /** The result; the session goes to {@code cache} for reuse, or is closed without one. */
        Result finish(StopReason reason, PrefixCache cache) {
            Result r = new Result(Arrays.copyOf(out, n), reason, job.promptIds().length, prefillNanos, session.visionNanos(), decodeNanos, steps,
                    session.routingStats().snapshot());
            if (cache != null) cache.offer(session);
            else session.close();
            return r;
        }
    }
}

package ai.polyv.core.sampling;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token id from a row of logits {@code [vocab]}.
 *
 * <p>{@link Greedy}: the arg-max, ties to the lower id.
 *
 * <p>{@link Stochastic}, one fixed algorithm (so a seed reproduces a run on every machine):
 * <ol>
 *   <li>z_i = logit_i / temperature, in double;</li>
 *   <li>candidates ordered by z descending, ties to the lower id;</li>
 *   <li>top-k keeps the first k candidates (k = 0: all);</li>
 *   <li>p_i = softmax over the kept z;</li>
 *   <li>top-p keeps the shortest prefix whose cumulative probability is at least p (always one token);</li>
 *   <li>u = {@code nextDouble()} x (kept mass) from {@code L64X128MixRandom} seeded with the seed; the
 *       chosen token is the first candidate whose cumulative probability exceeds u.</li>
 * </ol>
 * NaN logits are rejected.
 */
public sealed interface Sampler permits Sampler.Greedy, Sampler.Stochastic {

    int sample(float[] logits);

    static Sampler of(SamplingOptions o) {
        return o.greedy() ? new Greedy() : new Stochastic(o);
    }

    /** Arg-max, ties to the lower id. */
    final class Greedy implements Sampler {
        @Override
        public int sample(float[] logits) {
            if (logits.length == 0) throw new IllegalArgumentException("empty logits");
            int best = 0;
            for (int i = 0; i < logits.length; i++) {
                if (Float.isNaN(logits[i])) throw new IllegalStateException("logit " + i + " is NaN");
                if (logits[i] > logits[best]) best = i;
            }
            return best;
        }
    }

    /** Seeded temperature / top-k / top-p sampling. */
    final class Stochastic implements Sampler {
        private final SamplingOptions options;
        private final RandomGenerator random;

        public Stochastic(SamplingOptions options) {
            if (options.greedy()) throw new IllegalArgumentException("temperature 0 is greedy decoding");
            this.options = options;
            this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(options.seed());
        }

        @Override
        public int sample(float[] logits) {
            int n = logits.length;
            if (n == 0) throw new IllegalArgumentException("empty logits");
            double t = options.temperature();
            // sort key: order-preserving bits of -z in the high word, id in the low word
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(logits[i])) throw new IllegalStateException("logit " + i + " is NaN");
                float neg = (float) (-(logits[i] / t));
                if (neg == 0f) neg = 0f; // -0 -> +0
                int bits = Float.floatToIntBits(neg);
                int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff; // monotone in the float value
                keys[i] = ((long) ordered << 32) | i;
            }
            int keep = options.topK() > 0 ? Math.min(options.topK(), n) : n;
            if (keep <= n / 8) {
                keys = smallest(keys, keep); // the same first `keep` keys as a full sort (keys are unique)
            } else {
                Arrays.sort(keys);
            }
            int[] ids = new int[keep];
            double[] p = new double[keep];
            double max = logits[(int) keys[0]] / t;
            double sum = 0;
            for (int r = 0; r < keep; r++) {
                ids[r] = (int) keys[r];
                p[r] = Math.exp(logits[ids[r]] / t - max);
                sum += p[r];
            }
            double cum = 0;
            int kept = keep;
            for (int r = 0; r < keep; r++) {
                p[r] /= sum;
                cum += p[r];
                if (cum >= options.topP() && r + 1 < kept) {
                    kept = r + 1;
                    break;
                }
            }
            double mass = 0;
            for (int r = 0; r < kept; r++) mass += p[r];
            double u = random.nextDouble() * mass;
            double acc = 0;
            for (int r = 0; r < kept; r++) {
                acc += p[r];
                if (acc > u) return ids[r];
            }
            return ids[kept - 1];
        }

        /** The {@code k} smallest of distinct {@code keys}, ascending: a bounded max-heap, O(n log k). */
        static long[] smallest(long[] keys, int k) {
            long[] heap = new long[k];
            int size = 0;
            for (long key : keys) {
                if (size < k) {
                    int i = size++;
                    heap[i] = key;
                    while (i > 0 && heap[(i - 1) / 2] < heap[i]) { // sift up
                        int parent = (i - 1) / 2;
                        long tmp = heap[parent];
                        heap[parent] = heap[i];
                        heap[i] = tmp;
                        i = parent;
                    }
                } else if (key < heap[0]) {
                    heap[0] = key;
                    int i = 0;
                    while (true) { // sift down
                        int l = 2 * i + 1, r = l + 1, big = i;
                        if (l < k && heap[l] > heap[big]) big = l;
                        if (r < k && heap[r] > heap[big]) big = r;
                        if (big == i) break;
                        long tmp = heap[big];
                        heap[big] = heap[i];
                        heap[i] = tmp;
                        i = big;
                    }
                }
            }
            Arrays.sort(heap, 0, size);
            return heap;
        }
    }
}

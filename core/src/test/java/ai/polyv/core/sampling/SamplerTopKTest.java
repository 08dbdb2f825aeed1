package ai.polyv.core.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Top-k sampling selects its candidates with a bounded heap instead of sorting the whole vocabulary;
 * the draws must equal those of the documented algorithm done with a full sort, tie order included.
 */
class SamplerTopKTest {

    /** {@link Sampler.Stochastic}'s algorithm with a full sort of all candidates (the reference). */
    private static int[] reference(SamplingOptions o, float[][] rows) {
        var random = java.util.random.RandomGeneratorFactory.of("L64X128MixRandom").create(o.seed());
        int[] out = new int[rows.length];
        for (int s = 0; s < rows.length; s++) {
            float[] logits = rows[s];
            double t = o.temperature();
            Integer[] order = new Integer[logits.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            // z descending (as float, like the sampler's key), ties to the lower id
            Arrays.sort(order, (a, b) -> {
                int c = Float.compare((float) (logits[b] / t), (float) (logits[a] / t));
                return c != 0 ? c : Integer.compare(a, b);
            });
            int keep = o.topK() > 0 ? Math.min(o.topK(), logits.length) : logits.length;
            double max = logits[order[0]] / t, sum = 0;
            double[] p = new double[keep];
            for (int r = 0; r < keep; r++) sum += (p[r] = Math.exp(logits[order[r]] / t - max));
            double cum = 0;
            int kept = keep;
            for (int r = 0; r < keep; r++) {
                p[r] /= sum;
                cum += p[r];
                if (cum >= o.topP() && r + 1 < kept) {
                    kept = r + 1;
                    break;
                }
            }
            double mass = 0;
            for (int r = 0; r < kept; r++) mass += p[r];
            double u = random.nextDouble() * mass, acc = 0;
            int pick = order[kept - 1];
            for (int r = 0; r < kept; r++) {
                acc += p[r];
                if (acc > u) {
                    pick = order[r];
                    break;
                }
            }
            out[s] = pick;
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 40, 600})
    void heapSelectionDrawsWhatAFullSortDraws(int k) {
        Random r = new Random(k);
        float[][] rows = new float[60][5003];
        for (float[] row : rows) {
            // coarse values: many exact ties, so the lower-id rule is exercised
            for (int i = 0; i < row.length; i++) row[i] = Math.round(r.nextGaussian() * 8) / 4f;
        }
        SamplingOptions o = new SamplingOptions(0.8, k, 0.95, 1234 + k);
        Sampler s = Sampler.of(o);
        int[] got = new int[rows.length];
        for (int i = 0; i < rows.length; i++) got[i] = s.sample(rows[i]);
        assertArrayEquals(reference(o, rows), got);
    }
}

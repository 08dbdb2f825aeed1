package ai.polyv.core.sampling;

/**
 * How the next token is chosen.
 *
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it
 * @param topK        keep only the k most likely tokens (0 = no limit)
 * @param topP        keep the smallest set of most likely tokens whose probability reaches p (1 = no limit)
 * @param seed        seed of the random generator ({@code L64X128MixRandom})
 */
public record SamplingOptions(double temperature, int topK, double topP, long seed) {

    public static final SamplingOptions GREEDY = new SamplingOptions(0, 0, 1.0, 0);

    public SamplingOptions {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }

    public boolean greedy() {
        return temperature == 0;
    }
}

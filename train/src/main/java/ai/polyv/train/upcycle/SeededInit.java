package ai.polyv.train.upcycle;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * The deterministic initialisation of the tensors upcycling creates (routers, synergy head weights), the same
 * scheme as {@code DemoWeights}: tensor {@code name} draws its elements in row-major order as
 * {@code (float) (g.nextGaussian() * std)} from a {@code L64X128MixRandom} generator {@code g} created with
 * seed {@code seed ^ name.hashCode()}. The values depend only on (seed, std, name), not on write order or
 * sharding; they are then rounded (nearest even) to the checkpoint's dtype.
 */
public final class SeededInit {
    public static final String ALGORITHM = "L64X128MixRandom";

    private SeededInit() {
    }

    /** The generator of tensor {@code name}. */
    public static RandomGenerator generator(long seed, String name) {
        return RandomGeneratorFactory.of(ALGORITHM).create(seed ^ name.hashCode());
    }

    /** The first {@code n} float32 values of tensor {@code name} (before dtype rounding). */
    public static float[] values(long seed, double std, String name, int n) {
        RandomGenerator g = generator(seed, name);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (g.nextGaussian() * std);
        }
        return out;
    }
}

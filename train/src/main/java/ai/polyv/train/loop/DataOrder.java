package ai.polyv.train.loop;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * The order examples are visited in: epoch after epoch, each a Fisher-Yates shuffle of {@code 0..size-1}
 * drawn from {@code L64X128MixRandom} seeded with {@code seed * 0x9E3779B97F4A7C15 + epoch}. The
 * whole state is (seed, epoch, cursor): a checkpoint stores those three numbers and the permutation is
 * rebuilt from them, so a resumed run visits the same examples in the same order.
 */
public final class DataOrder {
    private final long seed;
    private final int size;
    private long epoch;
    private int cursor;
    private int[] perm;

    public DataOrder(long seed, int size, long epoch, int cursor) {
        if (size <= 0) throw new IllegalArgumentException("no examples to order");
        if (cursor < 0 || cursor > size) throw new IllegalArgumentException("data cursor " + cursor + " outside [0, " + size + "]");
        this.seed = seed;
        this.size = size;
        this.epoch = epoch;
        this.cursor = cursor;
        this.perm = permutation(seed, size, epoch);
    }

    public static int[] permutation(long seed, int size, long epoch) {
        RandomGenerator r = RandomGeneratorFactory.of("L64X128MixRandom").create(seed * 0x9E3779B97F4A7C15L + epoch);
        int[] p = new int[size];
        for (int i = 0; i < size; i++) p[i] = i;
        for (int i = size - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The example after the current one, without advancing. */
    public int peek() {
        if (cursor == size) return permutation(seed, size, epoch + 1)[0];
        return perm[cursor];
    }

    /** The next example index. */
    public int next() {
        if (cursor == size) {
            epoch++;
            cursor = 0;
            perm = permutation(seed, size, epoch);
        }
        return perm[cursor++];
    }

    public long epoch() {
        return epoch;
    }

    public int cursor() {
        return cursor;
    }
}

package ai.polyv.train.dist;

/**
 * The communication of data-parallel training: {@link #size()} ranks, each running the same program on its own
 * shard, exchange float buffers. Every call is collective: every rank makes the same calls in the same order with
 * buffers of the same length.
 *
 * <p>Summation order is fixed: {@link #allReduceSum} adds the ranks' buffers in rank order 0, 1, ..., size-1 (as
 * {@code ((b0 + b1) + b2) + ...} per element), so every rank gets the same bits, and a rerun gets the same bits again.
 * It is not the order in which one process accumulates the same examples, so a 2-rank run matches a 1-process run to
 * rounding (about 1e-7 relative per step), not bit for bit.
 *
 * <p>Implementations: {@link #single()} (one rank, no communication), {@link InJvmCollective} (ranks as threads of one
 * JVM: the tests), {@code ai.polyv.spark.BarrierCollective} (the tasks of a Spark barrier stage); the NCCL one is
 * planned (docs/distributed.md).
 */
public interface Collective extends AutoCloseable {

    /** This rank, 0 .. size-1. */
    int rank();

    /** The number of ranks. */
    int size();

    /** In place: every rank's {@code buf} becomes the element-wise sum over the ranks, in rank order. */
    void allReduceSum(float[] buf);

    /** In place, as {@link #allReduceSum(float[])} with doubles (losses and counts). */
    void allReduceSum(double[] buf);

    /** In place: every rank's {@code buf} becomes {@code root}'s. */
    void broadcast(float[] buf, int root);

    @Override
    default void close() {}

    /** One rank: nothing to exchange. */
    static Collective single() {
        return new Collective() {
            @Override
            public int rank() {
                return 0;
            }

            @Override
            public int size() {
                return 1;
            }

            @Override
            public void allReduceSum(float[] buf) {}

            @Override
            public void allReduceSum(double[] buf) {}

            @Override
            public void broadcast(float[] buf, int root) {
                if (root != 0) throw new IllegalArgumentException("root " + root + " of a single rank");
            }
        };
    }
}

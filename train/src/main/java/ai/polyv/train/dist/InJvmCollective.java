package ai.polyv.train.dist;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * Ranks as threads of one JVM: {@link #group(int)} makes {@code size} handles, one per thread. A call publishes this
 * rank's buffer, waits for every rank, reads all of them in rank order, and waits again before a buffer may be
 * reused. A rank that fails breaks the barrier, and the others fail instead of waiting for ever.
 */
public final class InJvmCollective implements Collective {

    private static final class Shared {
        final CyclicBarrier barrier;
        final Object[] slots;

        Shared(int size) {
            barrier = new CyclicBarrier(size);
            slots = new Object[size];
        }
    }

    private final Shared shared;
    private final int rank;

    private InJvmCollective(Shared shared, int rank) {
        this.shared = shared;
        this.rank = rank;
    }

    /** {@code size} connected ranks; give handle {@code r} to the thread of rank {@code r}. */
    public static List<Collective> group(int size) {
        if (size < 1) throw new IllegalArgumentException("a group needs at least 1 rank, got " + size);
        Shared s = new Shared(size);
        List<Collective> out = new ArrayList<>(size);
        for (int r = 0; r < size; r++) out.add(new InJvmCollective(s, r));
        return out;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return shared.slots.length;
    }

    @Override
    public void allReduceSum(float[] buf) {
        float[] mine = buf.clone();
        shared.slots[rank] = mine;
        await();
        for (int r = 0; r < size(); r++) {
            float[] other = (float[]) shared.slots[r];
            check(other.length, buf.length, r);
            if (r == 0) System.arraycopy(other, 0, buf, 0, buf.length);
            else for (int i = 0; i < buf.length; i++) buf[i] += other[i];
        }
        await();
    }

    @Override
    public void allReduceSum(double[] buf) {
        double[] mine = buf.clone();
        shared.slots[rank] = mine;
        await();
        for (int r = 0; r < size(); r++) {
            double[] other = (double[]) shared.slots[r];
            check(other.length, buf.length, r);
            if (r == 0) System.arraycopy(other, 0, buf, 0, buf.length);
            else for (int i = 0; i < buf.length; i++) buf[i] += other[i];
        }
        await();
    }

    @Override
    public void broadcast(float[] buf, int root) {
        if (root < 0 || root >= size()) throw new IllegalArgumentException("root " + root + " outside [0, " + size() + ")");
        if (rank == root) shared.slots[root] = buf.clone();
        await();
        float[] from = (float[]) shared.slots[root];
        check(from.length, buf.length, root);
        System.arraycopy(from, 0, buf, 0, buf.length);
        await();
    }

    private void check(int theirs, int mine, int r) {
        if (theirs == mine) return;
        shared.barrier.reset();   // the ranks waiting for this one fail instead of hanging
        throw new IllegalStateException("rank " + r + " sent " + theirs + " values, rank " + rank + " " + mine);
    }

    private void await() {
        try {
            shared.barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shared.barrier.reset();
            throw new IllegalStateException("rank " + rank + " interrupted in a collective", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("rank " + rank + ": another rank failed during a collective", e);
        }
    }
}

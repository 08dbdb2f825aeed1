package ai.polyv.spark;

import ai.polyv.train.dist.Collective;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.apache.spark.BarrierTaskContext;

/**
 * The tasks of a Spark barrier stage as ranks (rank = partition id). Every call is one
 * {@link BarrierTaskContext#allGather}: each task sends its buffer (little-endian, Base64, since allGather carries
 * strings) and sums the messages in partition order, so every rank gets the same bits. The buffers pass through the
 * driver: right for routers, heads and small models, not for 7B of gradients (that is NCCL's job, docs/distributed.md).
 */
final class BarrierCollective implements Collective {
    private final BarrierTaskContext ctx;

    BarrierCollective(BarrierTaskContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public int rank() {
        return ctx.partitionId();
    }

    @Override
    public int size() {
        return ctx.getTaskInfos().length;
    }

    @Override
    public void allReduceSum(float[] buf) {
        ByteBuffer b = ByteBuffer.allocate(buf.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(buf);
        String[] all = ctx.allGather(Base64.getEncoder().encodeToString(b.array()));
        for (int r = 0; r < all.length; r++) {
            var f = ByteBuffer.wrap(Base64.getDecoder().decode(all[r])).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            if (f.remaining() != buf.length) throw new IllegalStateException("rank " + r + " sent " + f.remaining() + " values, rank " + rank() + " " + buf.length);
            if (r == 0) f.get(buf);
            else for (int i = 0; i < buf.length; i++) buf[i] += f.get(i);
        }
    }

    @Override
    public void allReduceSum(double[] buf) {
        ByteBuffer b = ByteBuffer.allocate(buf.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(buf);
        String[] all = ctx.allGather(Base64.getEncoder().encodeToString(b.array()));
        for (int r = 0; r < all.length; r++) {
            var d = ByteBuffer.wrap(Base64.getDecoder().decode(all[r])).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
            if (d.remaining() != buf.length) throw new IllegalStateException("rank " + r + " sent " + d.remaining() + " values, rank " + rank() + " " + buf.length);
            if (r == 0) d.get(buf);
            else for (int i = 0; i < buf.length; i++) buf[i] += d.get(i);
        }
    }

    @Override
    public void broadcast(float[] buf, int root) {
        ByteBuffer b = ByteBuffer.allocate(rank() == root ? buf.length * Float.BYTES : 0).order(ByteOrder.LITTLE_ENDIAN);
        if (rank() == root) b.asFloatBuffer().put(buf);
        String[] all = ctx.allGather(Base64.getEncoder().encodeToString(b.array()));
        var f = ByteBuffer.wrap(Base64.getDecoder().decode(all[root])).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        if (f.remaining() != buf.length) throw new IllegalStateException("root " + root + " sent " + f.remaining() + " values, rank " + rank() + " has " + buf.length);
        f.get(buf);
    }
}

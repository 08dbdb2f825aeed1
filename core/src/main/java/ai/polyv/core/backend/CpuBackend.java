package ai.polyv.core.backend;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import ai.polyv.core.cpu.Attention;
import ai.polyv.core.cpu.BlockAttention;
import ai.polyv.core.cpu.CpuKernels;
import ai.polyv.core.cpu.CpuThreads;
import ai.polyv.core.cpu.SoftmaxTopK;
import ai.polyv.core.cpu.WeightFormat;

/**
 * The CPU backend: host memory (FFM arenas), weights are zero-copy views of the mapped checkpoint.
 * Dense ops delegate to {@link CpuKernels} (vectorised, multi-threaded matmul); attention, rope, row
 * movement and routing are written here, each with its scalar statement in {@link ReferenceOps}.
 * Owns a {@link CpuThreads} pool: close the backend when done.
 */
public final class CpuBackend implements Backend {

    private final CpuThreads threads;

    /** One thread per available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuBackend(int threads) {
        this.threads = new CpuThreads(threads);
    }

    public CpuThreads threads() {
        return threads;
    }

    @Override
    public void close() {
        threads.close();
    }

    static WeightFormat format(Tensor w) {
        return WeightFormat.of(w.dtype());
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Workspace workspace() {
        return new CpuWorkspace(this);
    }

    @Override
    public Tensor weight(DType dtype, MemorySegment hostBytes, long... shape) {
        return new Tensor(dtype, hostBytes, shape);
    }

    @Override
    public float[] download(Tensor t) {
        return t.toFloatArray();
    }

    @Override
    public void upload(float[] values, Tensor dst) {
        dst.copyFrom(values);
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        ReferenceOps.requireF32("matmul", x, out, bias);
        int n = x.rows(), k = x.cols(), m = w.rows();
        ReferenceOps.requireShape("matmul", "weight", w, m, k);
        ReferenceOps.requireShape("matmul", "out", out, n, m);
        CpuKernels.matmul(threads, x.data(), n, k, w.data(), format(w), m, bias == null ? null : bias.data(), out.data());
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        ReferenceOps.requireF32("rmsNorm", x, w, out);
        ReferenceOps.requireShape("rmsNorm", "out", out, x.rows(), x.cols());
        CpuKernels.rmsNorm(x.data(), x.rows(), x.cols(), w.data(), eps, out.data());
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        ReferenceOps.requireF32("siluMul", gate, up, out);
        sameSize("siluMul", gate, up, out);
        CpuKernels.siluMul(gate.data(), up.data(), out.numel(), out.data());
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        ReferenceOps.requireF32("gelu", x, out);
        sameSize("gelu", x, out);
        CpuKernels.geluErf(x.data(), out.numel(), out.data());
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ReferenceOps.requireF32("add", a, b, out);
        sameSize("add", a, b, out);
        CpuKernels.add(a.data(), b.data(), out.numel(), out.data());
    }

    @Override
    public void fill(Tensor t, float value) {
        ReferenceOps.requireF32("fill", t);
        if (value == 0f) {
            t.data().fill((byte) 0);
        } else {
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, value);
        }
    }

    private static void sameSize(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.numel() != ts[0].numel()) throw new IllegalArgumentException(op + ": sizes differ: " + java.util.Arrays.toString(ts));
        }
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        ReferenceOps.requireF32("embedding", out);
        int vocab = table.rows(), d = table.cols();
        ReferenceOps.requireShape("embedding", "out", out, ids.length, d);
        long rowBytes = (long) d * table.dtype().byteSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("embedding: id " + ids[i] + " at position " + i + " outside vocabulary [0, " + vocab + ")");
            }
            CpuKernels.toFloat32(table.data().asSlice(ids[i] * rowBytes, rowBytes), format(table), d,
                    out.data().asSlice((long) i * d * 4, (long) d * 4));
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ReferenceOps.requireF32("copy", src, dst);
        ReferenceOps.requireShape("copy", "dst", dst, src.rows(), src.cols());
        MemorySegment.copy(src.data(), 0, dst.data(), 0, src.data().byteSize());
    }

    @Override
    public void gatherRows(Tensor src, int[] index, Tensor out) {
        ReferenceOps.requireF32("gatherRows", src, out);
        long rowBytes = (long) src.cols() * 4;
        ReferenceOps.requireShape("gatherRows", "out", out, index.length, src.cols());
        ReferenceOps.requireRows("gatherRows", index, src.rows());
        for (int i = 0; i < index.length; i++) {
            MemorySegment.copy(src.data(), index[i] * rowBytes, out.data(), i * rowBytes, rowBytes);
        }
    }

    @Override
    public void scatterRows(Tensor src, int[] index, Tensor out) {
        ReferenceOps.requireF32("scatterRows", src, out);
        long rowBytes = (long) src.cols() * 4;
        ReferenceOps.requireShape("scatterRows", "src", src, index.length, out.cols());
        ReferenceOps.requireRows("scatterRows", index, out.rows());
        for (int i = 0; i < index.length; i++) {
            MemorySegment.copy(src.data(), i * rowBytes, out.data(), index[i] * rowBytes, rowBytes);
        }
    }

    @Override
    public void scatterAddScaled(Tensor src, int[] index, float[] scale, Tensor out) {
        ReferenceOps.requireF32("scatterAddScaled", src, out);
        int d = src.cols();
        ReferenceOps.requireShape("scatterAddScaled", "src", src, index.length, out.cols());
        ReferenceOps.requireRows("scatterAddScaled", index, out.rows());
        for (int i = 0; i < index.length; i++) {
            CpuKernels.axpy(scale[i], src.data(), (long) i * d, out.data(), (long) index[i] * d, d);
        }
    }

    @Override
    public void rope(Tensor x, int heads, Tensor cos, Tensor sin) {
        ReferenceOps.requireF32("rope", x, cos, sin);
        int n = x.rows(), hd = x.cols() / heads;
        ReferenceOps.requireShape("rope", "cos", cos, n, hd);
        ReferenceOps.requireShape("rope", "sin", sin, n, hd);
        CpuKernels.rope(threads, x.data(), n, heads, hd, cos.data(), sin.data());
    }

    @Override
    public void attentionSegments(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int[] cuSeqlens) {
        ReferenceOps.requireF32("attentionSegments", q, k, v, out);
        int n = q.rows(), width = q.cols(), hd = width / heads;
        if (cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != n) {
            throw new IllegalArgumentException("attentionSegments: cuSeqlens must run from 0 to " + n);
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        // work units: (head, block of up to QB queries of one segment); blocks of a few queries go one query at a time
        List<int[]> blocks = new ArrayList<>();   // {segment, first row, rows}
        for (int s = 0; s + 1 < cuSeqlens.length; s++) {
            for (int r0 = cuSeqlens[s]; r0 < cuSeqlens[s + 1]; r0 += BlockAttention.QB) {
                blocks.add(new int[] {s, r0, Math.min(BlockAttention.QB, cuSeqlens[s + 1] - r0)});
            }
        }
        threads.parallelFor(blocks.size() * heads, (from, to) -> {
            float[] scores = new float[n];
            int[] ends = new int[BlockAttention.QB];
            for (int u = from; u < to; u++) {
                int[] b = blocks.get(u / heads);
                int h = u % heads, s = b[0], r0 = b[1], nq = b[2];
                long off = (long) r0 * width + (long) h * hd;
                if (nq >= BLOCK_MIN) {
                    java.util.Arrays.fill(ends, 0, nq, cuSeqlens[s + 1]);
                    BlockAttention.attend(q.data(), off, width, nq, k.data(), v.data(), width, h * hd, cuSeqlens[s], ends, hd, scale,
                            out.data(), off);
                } else {
                    for (int r = 0; r < nq; r++) {
                        long o = off + (long) r * width;
                        attend(q, o, k, v, width, h * hd, cuSeqlens[s], cuSeqlens[s + 1], hd, scale, scores, out, o);
                    }
                }
            }
        });
    }

    /** Query blocks at least this long use {@link BlockAttention}; shorter ones (decode) go one query at a time. */
    static final int BLOCK_MIN = 4;

    @Override
    public void attentionCausal(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start) {
        ReferenceOps.requireF32("attentionCausal", q, k, v, out);
        int n = q.rows(), width = q.cols(), hd = width / heads, kvWidth = k.cols(), group = heads / kvHeads;
        if (kvWidth != kvHeads * hd || k.rows() < start + n || v.rows() < start + n || v.cols() != kvWidth) {
            throw new IllegalArgumentException("attentionCausal: cache " + k + " too small for " + (start + n) + " rows of " + kvHeads + "x" + hd);
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        if (n < BLOCK_MIN) {
            threads.parallelFor(n * heads, (from, to) -> {
                float[] scores = new float[start + n];
                for (int idx = from; idx < to; idx++) {
                    int i = idx / heads, h = idx % heads;
                    long off = (long) i * width + (long) h * hd;
                    attend(q, off, k, v, kvWidth, (h / group) * hd, 0, start + i + 1, hd, scale, scores, out, off);
                }
            });
            return;
        }
        int blocks = (n + BlockAttention.QB - 1) / BlockAttention.QB;
        threads.parallelFor(blocks * heads, (from, to) -> {
            int[] ends = new int[BlockAttention.QB];
            for (int u = from; u < to; u++) {
                int h = u / blocks, r0 = (u % blocks) * BlockAttention.QB, nq = Math.min(BlockAttention.QB, n - r0);
                for (int r = 0; r < nq; r++) ends[r] = start + r0 + r + 1;
                long off = (long) r0 * width + (long) h * hd;
                BlockAttention.attend(q.data(), off, width, nq, k.data(), v.data(), kvWidth, (h / group) * hd, 0, ends, hd, scale, out.data(), off);
            }
        });
    }

    /** One query head over keys {@code [k0, k1)}: scores, max-subtracted softmax, weighted value sum. */
    private static void attend(Tensor q, long qOff, Tensor k, Tensor v, int kvStride, int kvOff, int k0, int k1, int hd,
                               float scale, float[] scores, Tensor out, long outOff) {
        Attention.attendHead(q.data(), qOff, k.data(), v.data(), kvStride, kvOff, k0, k1, hd, scale, scores, out.data(), outOff);
    }

    @Override
    public void softmaxTopK(Tensor logits, int k, boolean renormalize, int[] idsOut, float[] weightsOut) {
        ReferenceOps.requireF32("softmaxTopK", logits);
        int n = logits.rows(), m = logits.cols();
        if (k < 1 || k > m) throw new IllegalArgumentException("softmaxTopK: k=" + k + " not in [1, " + m + "]");
        if (idsOut.length < n * k || weightsOut.length < n * k) {
            throw new IllegalArgumentException("softmaxTopK: output arrays hold " + Math.min(idsOut.length, weightsOut.length) + " < " + n * k + " entries");
        }
        MemorySegment x = logits.data();
        // rows are independent: each is computed by one thread, in the reference's order (bit for bit its result)
        CpuThreads.RangeTask task = (from, to) -> {
            float[] p = new float[m];
            boolean[] taken = new boolean[m];
            for (int i = from; i < to; i++) SoftmaxTopK.row(x, (long) i * m, m, k, renormalize, p, taken, idsOut, weightsOut, i * k);
        };
        if ((long) n * m < 8192) task.run(0, n);
        else threads.parallelFor(n, task);
    }

    /** Activations in one shared arena (shared so that worker threads of the kernels may touch them). */
    private static final class CpuWorkspace implements Workspace {
        private final Backend backend;
        private final Arena arena = Arena.ofShared();

        CpuWorkspace(Backend backend) {
            this.backend = backend;
        }

        @Override
        public Tensor f32(long... shape) {
            long n = Shape.numel(shape);
            return new Tensor(DType.F32, arena.allocate(Math.max(n, 0) * 4, 64).asSlice(0, n * 4), shape);
        }

        @Override
        public Backend backend() {
            return backend;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

}

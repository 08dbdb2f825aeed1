package ai.polyv.runtime.backend;

import ai.polyv.runtime.tensor.DType;
import ai.polyv.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The CPU backend: host memory (FFM arenas), weights are zero-copy views of the mapped checkpoint. */
public final class CpuBackend implements Backend {

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
        ReferenceOps.matmul(x, w, bias, out);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        ReferenceOps.rmsNorm(x, w, eps, out);
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        ReferenceOps.siluMul(gate, up, out);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        ReferenceOps.gelu(x, out);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ReferenceOps.add(a, b, out);
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        ReferenceOps.embedding(table, ids, out);
    }

    @Override
    public void gatherRows(Tensor src, int[] index, Tensor out) {
        ReferenceOps.requireF32("gatherRows", src, out);
        long rowBytes = (long) src.cols() * 4;
        ReferenceOps.requireShape("gatherRows", "out", out, index.length, src.cols());
        for (int i = 0; i < index.length; i++) {
            MemorySegment.copy(src.data(), index[i] * rowBytes, out.data(), i * rowBytes, rowBytes);
        }
    }

    @Override
    public void scatterRows(Tensor src, int[] index, Tensor out) {
        ReferenceOps.requireF32("scatterRows", src, out);
        long rowBytes = (long) src.cols() * 4;
        ReferenceOps.requireShape("scatterRows", "src", src, index.length, out.cols());
        for (int i = 0; i < index.length; i++) {
            MemorySegment.copy(src.data(), i * rowBytes, out.data(), index[i] * rowBytes, rowBytes);
        }
    }

    @Override
    public void scatterAddScaled(Tensor src, int[] index, float[] scale, Tensor out) {
        ReferenceOps.scatterAddScaled(src, index, scale, out);
    }

    @Override
    public void rope(Tensor x, int heads, Tensor cos, Tensor sin) {
        ReferenceOps.rope(x, heads, cos, sin);
    }

    @Override
    public void attentionSegments(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int[] cuSeqlens) {
        ReferenceOps.attentionSegments(q, k, v, out, heads, cuSeqlens);
    }

    @Override
    public void attentionCausal(Tensor q, Tensor k, Tensor v, Tensor out, int heads, int kvHeads, int start) {
        ReferenceOps.attentionCausal(q, k, v, out, heads, kvHeads, start);
    }

    @Override
    public void softmaxTopK(Tensor logits, int k, boolean renormalize, int[] idsOut, float[] weightsOut) {
        ReferenceOps.softmaxTopK(logits, k, renormalize, idsOut, weightsOut);
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
            long n = 1;
            for (long d : shape) n *= d;
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

    static {
        // the layout used for every activation access
        assert ValueLayout.JAVA_FLOAT_UNALIGNED.byteSize() == 4;
    }
}

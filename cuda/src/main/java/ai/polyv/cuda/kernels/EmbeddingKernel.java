package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.KernelLibrary;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUfunction;

/** embedding.cu: {@code embedding_gather(const void* table, int dtype, const int* ids, int n, int d, float* out)}. */
public final class EmbeddingKernel {
    private static final int THREADS = 256;
    private final CUfunction f;

    public EmbeddingKernel(KernelLibrary lib) {
        this.f = lib.module("embedding").function("embedding_gather");
    }

    /** {@code table [V, d]} any dtype, {@code ids} device int32 {@code [n]} (already range-checked), {@code out [n, d]} F32. */
    public void launch(CudaStream s, Tensor table, long ids, int n, Tensor out) {
        LaunchChecks.f32("embedding", out);
        LaunchChecks.shape("embedding", "out", out, n, table.cols());
        Launch.run(f, "embedding_gather", s, n, THREADS, 0, LaunchChecks.ptr(table), KernelDTypes.code(table.dtype()), ids, n, table.cols(), LaunchChecks.ptr(out));
    }
}

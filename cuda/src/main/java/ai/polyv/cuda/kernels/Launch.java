package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.CudaStream;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Kernel launch with typed arguments: a {@link Long} is a device pointer (or a {@code long long}
 * kernel parameter), an {@link Integer} an {@code int}, a {@link Float} a {@code float}. The order
 * and types must match the kernel's C signature, which each launcher class states.
 */
public final class Launch {
    /** Cap on blocks of a 1-D grid-stride loop (enough to fill any current GPU several times). */
    public static final int MAX_STRIDE_BLOCKS = 8192;

    private Launch() {}

    /** Blocks of {@code threads} threads covering {@code n} elements in a grid-stride loop. */
    public static int strideBlocks(long n, int threads) {
        return (int) Math.max(1, Math.min(MAX_STRIDE_BLOCKS, (n + threads - 1) / threads));
    }

    public static void run(CUfunction f, String name, CudaStream stream, long gridX, int block, int sharedBytes, Object... args) {
        if (gridX <= 0) return;
        if (gridX > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": grid of " + gridX + " blocks is too large");
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case Long l -> Pointer.to(new long[] {l});
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException(name + ": unsupported kernel argument " + args[i]);
            };
        }
        int r = JCudaDriver.cuLaunchKernel(f, (int) gridX, 1, 1, block, 1, 1, sharedBytes, stream.cu(), Pointer.to(params), null);
        if (r != CUresult.CUDA_SUCCESS) throw new CudaException("cuLaunchKernel(" + name + ", grid " + gridX + ", block " + block + ") failed: "
                + CUresult.stringFor(r), r);
    }
}

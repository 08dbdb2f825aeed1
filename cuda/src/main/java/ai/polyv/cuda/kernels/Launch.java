package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.CudaStream;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The one way a launcher calls {@code cuLaunchKernel}: typed arguments packed the way the driver API
 * wants them. Each argument is a {@link Long} (a device pointer or a {@code long long}), an
 * {@link Integer} ({@code int}), a {@link Float} ({@code float}), a {@link DeviceTensor} (its
 * pointer) or {@code null} (a null device pointer), in the order and with the types of the kernel's C
 * signature, which each launcher class states.
 */
public final class Launch {

    /** Cap on blocks of a 1-D grid-stride loop (enough to fill any current GPU several times). */
    public static final int MAX_STRIDE_BLOCKS = 8192;

    /** The last launch queued from this process (kernel and dimensions), for the message of a later failed synchronisation. */
    private static volatile String last = "none";

    private Launch() {}

    /** The last kernel launched ({@code name Dims[...]}): a failed synchronisation names it, since faults surface there. */
    public static String lastLaunch() {
        return last;
    }

    /** Grid and block sizes of one launch, and the dynamic shared memory (0 for every PolyV kernel). */
    public record Dims(int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        public Dims {
            if (gridX < 1 || gridY < 1 || gridZ < 1 || block < 1) throw new IllegalArgumentException("empty launch " + this);
            if (gridY > 65535 || gridZ > 65535) throw new IllegalArgumentException("grid y/z above 65535: " + this);
        }
    }

    /** Blocks of {@code threads} threads covering {@code n} elements in a grid-stride loop. */
    public static int strideBlocks(long n, int threads) {
        return (int) Math.max(1, Math.min(MAX_STRIDE_BLOCKS, (n + threads - 1) / threads));
    }

    /** A 1-D launch of {@code gridX} blocks; nothing is launched for an empty grid. */
    public static void run(CUfunction f, String name, CudaStream stream, long gridX, int block, int sharedBytes, Object... args) {
        if (gridX <= 0) return;
        if (gridX > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": grid of " + gridX + " blocks is too large");
        run(f, name, new Dims((int) gridX, 1, 1, block, sharedBytes), stream.cu(), args);
    }

    /** A launch of {@code d}; a failure names the kernel and the dimensions. */
    public static void run(CUfunction f, String name, Dims d, CUstream stream, Object... args) {
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> Pointer.to(new CUdeviceptr());
                case Long l -> Pointer.to(new long[] {l});
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case DeviceTensor t -> Pointer.to(t.ptr());
                default -> throw new IllegalArgumentException(name + ": unsupported kernel argument " + args[i].getClass().getName());
            };
        }
        last = name + " " + d;
        int r = JCudaDriver.cuLaunchKernel(f, d.gridX(), d.gridY(), d.gridZ(), d.block(), 1, 1, d.sharedBytes(), stream,
                Pointer.to(params), null);
        if (r != CUresult.CUDA_SUCCESS) {
            throw new CudaException("cuLaunchKernel(" + name + ", " + d + ") failed: " + CUresult.stringFor(r), r);
        }
    }
}

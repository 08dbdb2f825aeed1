package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/** One {@code cuLaunchKernel} call with its parameters packed the way the driver API wants them. */
final class KernelLaunch {
    private KernelLaunch() {}

    /** Grid and block sizes of one launch, and the dynamic shared memory (0 for every PolyV kernel). */
    record Dims(int gridX, int gridY, int gridZ, int block, int sharedBytes) {
        Dims {
            if (gridX < 1 || gridY < 1 || gridZ < 1 || block < 1) throw new IllegalArgumentException("empty launch " + this);
            if (gridY > 65535 || gridZ > 65535) throw new IllegalArgumentException("grid y/z above 65535: " + this);
        }
    }

    /**
     * Launches {@code fn}; each argument is a {@link DeviceTensor} (its pointer), {@code null} (a null
     * device pointer), an {@link Integer} (int) or a {@link Float} (float), in the kernel's order.
     */
    static void run(CUfunction fn, Dims d, CUstream stream, Object... args) {
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> Pointer.to(new CUdeviceptr());
                case DeviceTensor t -> Pointer.to(t.ptr());
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("unsupported kernel argument " + args[i].getClass());
            };
        }
        int r = JCudaDriver.cuLaunchKernel(fn, d.gridX(), d.gridY(), d.gridZ(), d.block(), 1, 1, d.sharedBytes(), stream,
                Pointer.to(params), null);
        if (r != CUresult.CUDA_SUCCESS) throw new CudaException("cuLaunchKernel(" + d + ") failed: " + CUresult.stringFor(r), r);
    }
}

package ai.polyv.runtime.cuda.kernels;

import jcuda.CudaException;
import jcuda.driver.JCudaDriver;

/** Whether a CUDA device can be used here, and if not, why (for test skips and benchmark errors). */
public record CudaProbe(boolean available, String reason) {

    /** cuInit + cuDeviceGetCount; never throws (missing native library, no driver, no device all map to a reason). */
    public static CudaProbe probe() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            return count[0] > 0 ? new CudaProbe(true, count[0] + " CUDA device(s)") : new CudaProbe(false, "cuInit succeeded but found 0 CUDA devices");
        } catch (CudaException e) {
            return new CudaProbe(false, "no usable CUDA driver/device: " + e.getMessage());
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return new CudaProbe(false, "JCuda native library not loadable: " + e);
        }
    }
}

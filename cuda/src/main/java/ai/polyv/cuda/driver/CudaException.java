package ai.polyv.cuda.driver;

import jcuda.driver.CUresult;

/** A CUDA driver, cuBLAS or NVRTC call failed; the message names the call and the error code's name. */
public final class CudaException extends RuntimeException {
    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The library's numeric error code. */
    public int code() {
        return code;
    }

    /** Throws unless a driver call returned {@code CUDA_SUCCESS}. */
    public static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")", result);
        }
    }
}

package ai.polyv.bench.cuda;

import ai.polyv.bench.Ceilings;
import ai.polyv.cuda.driver.Cublas;
import ai.polyv.cuda.CudaBackend;
import ai.polyv.cuda.driver.CudaEvent;
import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.DeviceBuffer;
import ai.polyv.cuda.driver.DevicePointers;
import java.util.Arrays;
import jcuda.driver.JCudaDriver;

/**
 * The GPU's ceilings, measured in the same run as the benchmarks they judge (docs/style.md 7).
 *
 * @param copyGBs       device-to-device copy of 1 GiB ({@code cuMemcpyDtoDAsync}), GB/s counting read + write bytes
 *                      (STREAM convention, as the CPU's {@code Ceilings.copyGBs})
 * @param bf16Tflops    cuBLAS bf16 GEMM 8192^3 (fp32 accumulation), TFLOP/s
 * @param fp32Tflops    cuBLAS fp32 GEMM 8192^3 (the ceiling of the fp32 backend's GEMMs)
 */
public record GpuCeilings(double copyGBs, double bf16Tflops, double fp32Tflops) {
    public static final long COPY_BYTES = 1L << 30;
    public static final int GEMM_N = 8192;

    public GpuCeilings {
        if (!(copyGBs > 0) || !(bf16Tflops > 0) || !(fp32Tflops > 0)) {
            throw new IllegalArgumentException("GPU ceilings must be positive: copy " + copyGBs + " GB/s, bf16 " + bf16Tflops
                    + " TFLOP/s, fp32 " + fp32Tflops + " TFLOP/s");
        }
    }

    /** Seconds of the roofline floor: the larger of bytes at the copy bandwidth and flops at the GEMM peak. */
    public double floorSeconds(double bytes, double flops, boolean bf16) {
        return Math.max(bytes / (copyGBs * 1e9), flops / ((bf16 ? bf16Tflops : fp32Tflops) * 1e12));
    }

    /**
     * These ceilings in the CPU benchmarks' record, for the roofline arithmetic of {@code MoeBench} (same table
     * as on the CPU): {@code fmaGflops*} = the cuBLAS GEMM rate of the backend's precision, {@code copyGBs} =
     * {@code readGBs} = the device copy bandwidth; threads 1 and vectorBits 0 mark it as a GPU record.
     */
    public Ceilings asCeilings(boolean bf16) {
        double peak = (bf16 ? bf16Tflops : fp32Tflops) * 1e3;
        return new Ceilings(1, 0, peak, peak, copyGBs, copyGBs, COPY_BYTES);
    }

    public String describe() {
        return String.format("GPU ceilings (measured): device copy %.0f GB/s, cuBLAS GEMM %d^3 bf16 %.0f TFLOP/s, fp32 %.1f TFLOP/s",
                copyGBs, GEMM_N, bf16Tflops, fp32Tflops);
    }

    /**
     * GPU benchmarks time a real device only: on the emulated device (host-built kernels) every number
     * would be meaningless, so they stop here with a clear message.
     */
    public static void refuseEmulated() {
        if (ai.polyv.cuda.driver.CudaContext.emulated()) {
            throw new UnsupportedOperationException("GPU benchmarks need a real CUDA device: this JVM uses the emulated device "
                    + "(polyv.cuda / POLYV_CUDA = emulated or auto without a driver), which proves logic, never timing");
        }
    }

    /** Measures on {@code be}'s stream: median of 10 copies, median of 5 GEMMs per dtype (after warm-up). */
    public static GpuCeilings measure(CudaBackend be) {
        refuseEmulated();
        double copyMs;
        try (DeviceBuffer a = be.pool().allocate(COPY_BYTES); DeviceBuffer b = be.pool().allocate(COPY_BYTES)) {
            check(JCudaDriver.cuMemsetD32Async(ptr(a.address()), 0, COPY_BYTES / 4, be.stream().cu()), "cuMemsetD32Async");
            copyMs = median(be, 3, 10, () -> check(JCudaDriver.cuMemcpyDtoDAsync(ptr(b.address()), ptr(a.address()), COPY_BYTES, be.stream().cu()),
                    "cuMemcpyDtoDAsync"));
        }
        double gemmFlops = 2.0 * GEMM_N * GEMM_N * (double) GEMM_N;
        double bf16Ms = gemm(be, Cublas.R_16BF, 2), fp32Ms = gemm(be, Cublas.R_32F, 4);
        return new GpuCeilings(2.0 * COPY_BYTES / (copyMs * 1e-3) / 1e9, gemmFlops / (bf16Ms * 1e-3) / 1e12, gemmFlops / (fp32Ms * 1e-3) / 1e12);
    }

    private static double gemm(CudaBackend be, int type, int elementBytes) {
        long n = GEMM_N, in = n * n * elementBytes;
        try (DeviceBuffer x = be.pool().allocate(in); DeviceBuffer w = be.pool().allocate(in); DeviceBuffer out = be.pool().allocate(n * n * 4)) {
            check(JCudaDriver.cuMemsetD8Async(ptr(x.address()), (byte) 0x3c, in, be.stream().cu()), "cuMemsetD8Async");   // small finite values
            check(JCudaDriver.cuMemsetD8Async(ptr(w.address()), (byte) 0x3c, in, be.stream().cu()), "cuMemsetD8Async");
            return median(be, 2, 5, () -> be.blas().gemmRowMajor(x.address(), w.address(), type, out.address(), GEMM_N, GEMM_N, GEMM_N));
        }
    }

    private static double median(CudaBackend be, int warmup, int runs, Runnable op) {
        return medianMs(be.stream(), warmup, runs, op);
    }

    /** Median milliseconds of {@code runs} calls of {@code op} between two events on {@code stream}, after {@code warmup} calls. */
    static double medianMs(CudaStream stream, int warmup, int runs, Runnable op) {
        for (int i = 0; i < warmup; i++) op.run();
        double[] ms = new double[runs];
        try (CudaEvent a = new CudaEvent(); CudaEvent b = new CudaEvent()) {
            for (int i = 0; i < runs; i++) {
                a.record(stream);
                op.run();
                b.record(stream);
                ms[i] = CudaEvent.elapsedMillis(a, b);
            }
        }
        Arrays.sort(ms);
        return ms[runs / 2];
    }

    private static jcuda.driver.CUdeviceptr ptr(long address) {
        return DevicePointers.of(address);
    }

    private static void check(int r, String what) {
        CudaException.check(r, what);
    }
}

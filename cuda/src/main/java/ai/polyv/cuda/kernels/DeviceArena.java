package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.safetensors.DType;

import java.util.ArrayList;
import java.util.List;

import ai.polyv.cuda.driver.CudaException;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Device allocations for kernel tests and benchmarks, freed together on {@link #close}. Every
 * allocation gets {@link #GUARD_BYTES} of guard after it; {@link #poison} fills tensor and guard with a
 * pattern (NaN for floats) and {@link #guardIntact} checks the guard afterwards (docs/style.md 4). The
 * runtime's own DeviceMemoryPool is the production allocator; this is deliberately simple.
 */
public final class DeviceArena implements AutoCloseable {
    public static final int GUARD_BYTES = 256;
    /** NaN as F32, NaN in both bf16 halves, and as I32 (2143387585) outside every valid id, offset or position. */
    public static final int POISON = 0x7FC17FC1;

    private final List<CUdeviceptr> owned = new ArrayList<>();

    public DeviceTensor alloc(String name, DType type, long... shape) {
        long n = Shape.numel(shape);
        long bytes = n * type.byteSize();
        CUdeviceptr p = new CUdeviceptr();
        CudaException.check(JCudaDriver.cuMemAlloc(p, allocatedBytes(bytes)), "cuMemAlloc");
        owned.add(p);
        return DeviceTensor.of(name, p, type, shape);
    }

    static long bytes(DeviceTensor t) {
        return t.numel() * t.dtype().byteSize();
    }

    /**
     * What is allocated for {@code dataBytes} of tensor: the data rounded up to whole 4-byte words (so that
     * {@link #poison}'s 32-bit fill stays inside the allocation when {@code dataBytes % 4 == 2}, an odd
     * number of bf16 elements), then {@link #GUARD_BYTES}.
     */
    static long allocatedBytes(long dataBytes) {
        return (dataBytes + 3) / 4 * 4 + GUARD_BYTES;
    }

    /** Fills the tensor and its guard with {@link #POISON}. */
    public void poison(DeviceTensor t) {
        CudaException.check(JCudaDriver.cuMemsetD32(t.ptr(), POISON, allocatedBytes(bytes(t)) / 4), "cuMemsetD32");
    }

    /**
     * True if every byte after {@code t}'s data still holds {@link #POISON} (poison it before the run):
     * from the first byte past the data, the half word after an odd bf16 count included, to the end of
     * the guard.
     */
    public boolean guardIntact(DeviceTensor t) {
        long b = bytes(t);
        byte[] g = new byte[(int) (allocatedBytes(b) - b)];
        CudaException.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(g), t.ptr().withByteOffset(b), g.length), "cuMemcpyDtoH");
        return firstGuardMismatch(g, b) < 0;
    }

    /**
     * The index in {@code guard} (the bytes from {@code dataBytes} on) of the first byte that is not
     * {@link #POISON}'s byte at that address (little-endian words from the tensor's start), or -1.
     */
    static int firstGuardMismatch(byte[] guard, long dataBytes) {
        for (int i = 0; i < guard.length; i++) {
            int shift = (int) ((dataBytes + i) % 4) * 8;
            if (guard[i] != (byte) (POISON >>> shift)) return i;
        }
        return -1;
    }

    public DeviceTensor upload(String name, float[] v, long... shape) {
        DeviceTensor t = alloc(name, DType.F32, shape);
        CudaException.check(JCudaDriver.cuMemcpyHtoD(t.ptr(), Pointer.to(v), (long) v.length * Sizeof.FLOAT), "cuMemcpyHtoD");
        return t;
    }

    public DeviceTensor upload(String name, int[] v, long... shape) {
        DeviceTensor t = alloc(name, DType.I32, shape);
        CudaException.check(JCudaDriver.cuMemcpyHtoD(t.ptr(), Pointer.to(v), (long) v.length * Sizeof.INT), "cuMemcpyHtoD");
        return t;
    }

    /** Uploads {@code v} rounded to bf16 (round to nearest even). */
    public DeviceTensor uploadBf16(String name, float[] v, long... shape) {
        DeviceTensor t = alloc(name, DType.BF16, shape);
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) s[i] = ai.polyv.core.cpu.WeightFormat.toBf16(v[i]);
        CudaException.check(JCudaDriver.cuMemcpyHtoD(t.ptr(), Pointer.to(s), (long) s.length * Sizeof.SHORT), "cuMemcpyHtoD");
        return t;
    }

    /** Uploads bf16 bit patterns as they are. */
    public DeviceTensor uploadBf16Bits(String name, short[] bits, long... shape) {
        DeviceTensor t = alloc(name, DType.BF16, shape);
        CudaException.check(JCudaDriver.cuMemcpyHtoD(t.ptr(), Pointer.to(bits), (long) bits.length * Sizeof.SHORT), "cuMemcpyHtoD");
        return t;
    }

    public static float[] downloadF32(DeviceTensor t) {
        float[] v = new float[(int) t.numel()];
        CudaException.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(v), t.ptr(), (long) v.length * Sizeof.FLOAT), "cuMemcpyDtoH");
        return v;
    }

    public static int[] downloadI32(DeviceTensor t) {
        int[] v = new int[(int) t.numel()];
        CudaException.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(v), t.ptr(), (long) v.length * Sizeof.INT), "cuMemcpyDtoH");
        return v;
    }

    /** A bf16 tensor as float32 values. */
    public static float[] downloadBf16(DeviceTensor t) {
        short[] s = new short[(int) t.numel()];
        CudaException.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(s), t.ptr(), (long) s.length * Sizeof.SHORT), "cuMemcpyDtoH");
        float[] v = new float[s.length];
        for (int i = 0; i < s.length; i++) v[i] = Float.intBitsToFloat((s[i] & 0xFFFF) << 16);
        return v;
    }

    @Override
    public void close() {
        for (CUdeviceptr p : owned) JCudaDriver.cuMemFree(p);
        owned.clear();
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.loader.safetensors.Shape;
import java.util.Arrays;

import ai.polyv.cuda.driver.DevicePointers;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

/**
 * What a launcher needs to know about one kernel argument in device memory: its name (for error
 * messages), the pointer, the element type, the logical shape, the stride of its rows in elements
 * ({@code rowStride == shape[last]} means contiguous) and its byte offset from a {@code cuMemAlloc}
 * base (allocations are 256-byte aligned, so {@code byteOffset % 16 == 0} means 16-byte aligned).
 * The kernels need contiguous, 16-byte aligned tensors; the launchers check both before a launch.
 * The CUDA backend's tensors become DeviceTensors through {@link #of(String, Tensor)} (no copy).
 *
 * @param shape row-major logical shape, e.g. {@code [tokens, hidden]}
 */
public record DeviceTensor(String name, CUdeviceptr ptr, DType dtype, long[] shape, long rowStride, long byteOffset) {

    public DeviceTensor {
        shape = shape.clone();
        if (shape.length == 0) throw new IllegalArgumentException(name + ": a device tensor needs at least one dimension");
    }

    /** A contiguous tensor at the start of an allocation (or of a 256-byte aligned sub-allocation). */
    public static DeviceTensor of(String name, CUdeviceptr ptr, DType dtype, long... shape) {
        return new DeviceTensor(name, ptr, dtype, shape, shape[shape.length - 1], 0);
    }

    /**
     * The bridge from the CUDA backend's device {@link Tensor}s ({@link DevicePointers}: the segment
     * address is the device pointer): same memory, F32 or BF16, contiguous; {@code byteOffset} is the
     * absolute device address, so the launchers' 16-byte alignment check is exact.
     */
    public static DeviceTensor of(String name, Tensor t) {
        if (t.dtype() == DType.F16) throw new IllegalArgumentException(name + ": " + t + " is F16, which the PolyV kernels do not read");
        return at(name, DevicePointers.address(t), t.dtype(), t.shape());
    }

    /** A contiguous tensor at a device address (e.g. a pool block); {@code byteOffset} is the address. */
    public static DeviceTensor at(String name, long address, DType dtype, long... shape) {
        return new DeviceTensor(name, DevicePointers.of(address), dtype, shape, shape[shape.length - 1], address);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public boolean contiguous() {
        return rowStride == shape[shape.length - 1];
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}

package ai.polyv.cuda.driver;

import ai.polyv.loader.safetensors.Shape;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jcuda.driver.CUdeviceptr;

/**
 * Device addresses as plain {@code long}s, and device tensors.
 *
 * <p>A device tensor is an ordinary {@link Tensor} whose segment's <i>address</i> is the device
 * pointer (a zero-length native segment reinterpreted to the tensor's byte size). Views
 * ({@link Tensor#rows}, {@link Tensor#reshape}) then do the address arithmetic for free. Such a
 * segment must never be dereferenced on the host: only the backend that made it reads it, through
 * the driver. JCuda takes a {@code long} address as a {@link CUdeviceptr} with that byte offset
 * from null (its native side uses pointer + offset).
 */
public final class DevicePointers {
    private DevicePointers() {}

    /** A JCuda pointer object for a device address. */
    public static CUdeviceptr of(long address) {
        return address == 0 ? new CUdeviceptr() : new CUdeviceptr().withByteOffset(address);
    }

    /** The device address of a device tensor (0 for an empty one). */
    public static long address(Tensor t) {
        return t.data().address();
    }

    /** A device tensor over {@code [address, address + numel * dtype size)}. */
    public static Tensor tensor(DType dtype, long address, long... shape) {
        long n = Shape.numel(shape);
        long bytes = n * dtype.byteSize();
        return new Tensor(dtype, bytes == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address).reinterpret(bytes), shape);
    }

    /** A {@link CUdeviceptr} subclass that exposes the address the driver wrote into it. */
    static final class Allocated extends CUdeviceptr {
        long address() {
            return getNativePointer() + getByteOffset();
        }
    }
}

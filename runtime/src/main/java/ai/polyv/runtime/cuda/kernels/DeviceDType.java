package ai.polyv.runtime.cuda.kernels;

/** Element types the PolyV CUDA kernels read and write. */
public enum DeviceDType {
    F32(4), BF16(2), I32(4);

    private final int byteSize;

    DeviceDType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }
}

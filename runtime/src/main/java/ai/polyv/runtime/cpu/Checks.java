package ai.polyv.runtime.cpu;

import java.lang.foreign.MemorySegment;

/** Argument checks shared by {@link CpuKernels} and {@link ScalarKernels}: sizes against segment lengths. */
final class Checks {
    private Checks() {}

    static void nonNegative(String op, String what, long v) {
        if (v < 0) throw new IllegalArgumentException(op + ": " + what + " must be >= 0, got " + v);
    }

    /** {@code seg} must hold at least {@code elems} elements of {@code elemBytes} bytes from its start. */
    static void fits(String op, String name, MemorySegment seg, long elems, int elemBytes) {
        if (seg == null) throw new NullPointerException(op + ": " + name + " is null");
        long need = elems * elemBytes;
        if (seg.byteSize() < need) {
            throw new IllegalArgumentException(op + ": " + name + " holds " + seg.byteSize() + " bytes, needs "
                    + need + " (" + elems + " elements of " + elemBytes + " bytes)");
        }
    }

    static void matmul(String op, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                       MemorySegment bias, MemorySegment out) {
        nonNegative(op, "n", n);
        nonNegative(op, "k", k);
        nonNegative(op, "m", m);
        if (wf == null) throw new NullPointerException(op + ": weight format is null");
        fits(op, "x [n=" + n + ", k=" + k + "]", x, (long) n * k, 4);
        fits(op, "w [m=" + m + ", k=" + k + "] " + wf, w, (long) m * k, wf.byteSize());
        if (bias != null) fits(op, "bias [m=" + m + "]", bias, m, 4);
        fits(op, "out [n=" + n + ", m=" + m + "]", out, (long) n * m, 4);
    }

    static void offsets(String op, String name, MemorySegment seg, long offElems, int len) {
        // fast path first: dot/axpy run once per attention key, so no message may be built unless a check fails
        if (seg != null && offElems >= 0 && len >= 0 && seg.byteSize() >= (offElems + len) * 4) return;
        nonNegative(op, name + " offset", offElems);
        nonNegative(op, "len", len);
        fits(op, name + " [" + offElems + " + " + len + "]", seg, offElems + len, 4);
    }
}

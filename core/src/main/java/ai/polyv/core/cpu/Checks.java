package ai.polyv.core.cpu;

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

    /** {@code seg} is non-null and holds {@code bytes} (fast paths: no message is built unless a check fails). */
    private static boolean holds(MemorySegment seg, long bytes) {
        return seg != null && seg.byteSize() >= bytes;
    }

    static void matmul(String op, MemorySegment x, int n, int k, MemorySegment w, WeightFormat wf, int m,
                       MemorySegment bias, MemorySegment out) {
        if (n >= 0 && k >= 0 && m >= 0 && wf != null && holds(x, 4L * n * k) && holds(w, (long) m * k * wf.byteSize())
                && (bias == null || holds(bias, 4L * m)) && holds(out, 4L * n * m)) return;
        nonNegative(op, "n", n);
        nonNegative(op, "k", k);
        nonNegative(op, "m", m);
        if (wf == null) throw new NullPointerException(op + ": weight format is null");
        fits(op, "x [n=" + n + ", k=" + k + "]", x, (long) n * k, 4);
        fits(op, "w [m=" + m + ", k=" + k + "] " + wf, w, (long) m * k, wf.byteSize());
        if (bias != null) fits(op, "bias [m=" + m + "]", bias, m, 4);
        fits(op, "out [n=" + n + ", m=" + m + "]", out, (long) n * m, 4);
    }

    static void matmulNN(String op, MemorySegment dy, int n, int m, MemorySegment w, WeightFormat wf, int k, MemorySegment out) {
        if (n >= 0 && m >= 0 && k >= 0 && wf != null && holds(dy, 4L * n * m) && holds(w, (long) m * k * wf.byteSize())
                && holds(out, 4L * n * k)) return;
        nonNegative(op, "n", n);
        nonNegative(op, "m", m);
        nonNegative(op, "k", k);
        if (wf == null) throw new NullPointerException(op + ": weight format is null");
        fits(op, "dy [n=" + n + ", m=" + m + "]", dy, (long) n * m, 4);
        fits(op, "w [m=" + m + ", k=" + k + "] " + wf, w, (long) m * k, wf.byteSize());
        fits(op, "out [n=" + n + ", k=" + k + "]", out, (long) n * k, 4);
    }

    static void matmulTN(String op, MemorySegment dy, int n, int m, MemorySegment x, int k, MemorySegment out) {
        if (n >= 0 && m >= 0 && k >= 0 && holds(dy, 4L * n * m) && holds(x, 4L * n * k) && holds(out, 4L * m * k)) return;
        nonNegative(op, "n", n);
        nonNegative(op, "m", m);
        nonNegative(op, "k", k);
        fits(op, "dy [n=" + n + ", m=" + m + "]", dy, (long) n * m, 4);
        fits(op, "x [n=" + n + ", k=" + k + "]", x, (long) n * k, 4);
        fits(op, "out [m=" + m + ", k=" + k + "]", out, (long) m * k, 4);
    }

    static void offsets(String op, String name, MemorySegment seg, long offElems, int len) {
        // fast path first: dot/axpy run once per attention key, so no message may be built unless a check fails
        if (seg != null && offElems >= 0 && len >= 0 && seg.byteSize() >= (offElems + len) * 4) return;
        nonNegative(op, name + " offset", offElems);
        nonNegative(op, "len", len);
        fits(op, name + " [" + offElems + " + " + len + "]", seg, offElems + len, 4);
    }
}

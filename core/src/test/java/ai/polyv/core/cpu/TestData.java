package ai.polyv.core.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random inputs in heap or native segments, with a poisoned sentinel tail to catch out-of-bounds writes. */
final class TestData {
    private TestData() {}

    static final float POISON = Float.intBitsToFloat(0x7FC0DEAD);  // a NaN with a payload
    static final int SENTINEL = 17;                                 // extra elements after each buffer

    enum Memory { HEAP, NATIVE }

    /** {@code count} float32 elements (+ sentinel) in uniform [-scale, scale]. */
    static MemorySegment randomF32(Memory mem, Arena arena, Random rnd, long count, float scale) {
        MemorySegment s = alloc(mem, arena, count + SENTINEL);
        for (long i = 0; i < count; i++) ScalarKernels.set(s, i, (rnd.nextFloat() * 2 - 1) * scale);
        for (long i = count; i < count + SENTINEL; i++) ScalarKernels.set(s, i, POISON);
        return s;
    }

    /** {@code count} float32 elements all poisoned (outputs: every element must be written). */
    static MemorySegment poisoned(Memory mem, Arena arena, long count) {
        MemorySegment s = alloc(mem, arena, count + SENTINEL);
        for (long i = 0; i < count + SENTINEL; i++) ScalarKernels.set(s, i, POISON);
        return s;
    }

    /** Weights [m, k] in {@code wf}, values uniform [-scale, scale] (rounded to the format). */
    static MemorySegment randomWeights(Memory mem, Arena arena, Random rnd, WeightFormat wf, long count, float scale) {
        long bytes = count * wf.byteSize();
        MemorySegment s = mem == Memory.HEAP
                ? MemorySegment.ofArray(new byte[(int) bytes + 8])   // byte[]: only 1-byte aligned
                : arena.allocate(bytes + 8, 64);
        for (long i = 0; i < count; i++) wf.set(s, i, (rnd.nextFloat() * 2 - 1) * scale);
        return s;
    }

    static MemorySegment alloc(Memory mem, Arena arena, long floats) {
        return mem == Memory.HEAP ? MemorySegment.ofArray(new float[Math.toIntExact(floats)])
                : arena.allocate(floats * 4, 64);
    }

    static MemorySegment copy(Memory mem, Arena arena, MemorySegment src, long floats) {
        MemorySegment d = alloc(mem, arena, floats);
        MemorySegment.copy(src, 0, d, 0, floats * 4);
        return d;
    }

    static float[] toArray(MemorySegment s, long count) {
        float[] a = new float[Math.toIntExact(count)];
        for (int i = 0; i < a.length; i++) a[i] = ScalarKernels.get(s, i);
        return a;
    }

    static void assertSentinel(MemorySegment s, long count) {
        for (long i = count; i < count + SENTINEL; i++) {
            int bits = Float.floatToRawIntBits(ScalarKernels.get(s, i));
            if (bits != Float.floatToRawIntBits(POISON)) {
                throw new AssertionError("write past the end: element " + i + " of a " + count + "-element output");
            }
        }
    }

    /** Every element close to the reference: |a - e| <= atol + rtol * |e|, and no NaN left. */
    static void assertClose(String what, float[] actual, float[] expected, double atol, double rtol) {
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i];
            if (Double.isNaN(a) || Math.abs(a - e) > atol + rtol * Math.abs(e)) {
                throw new AssertionError(what + ": element " + i + " = " + a + ", expected " + e
                        + " (atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }
}

package ai.polyv.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The guard arithmetic of {@link DeviceArena}, without a device: the 32-bit poison fill stays inside the
 * allocation for every data size (an odd bf16 count is {@code bytes % 4 == 2}: the fill used to run 2
 * bytes past it), and the guard check sees a write into the half word right after the data.
 */
class DeviceArenaGuardTest {

    /** What poison() writes: allocatedBytes / 4 words of POISON from the tensor's start, as bytes. */
    private static byte[] poisoned(long dataBytes) {
        long alloc = DeviceArena.allocatedBytes(dataBytes);
        byte[] mem = new byte[(int) alloc];
        for (int i = 0; i < alloc; i++) mem[i] = (byte) (DeviceArena.POISON >>> (i % 4 * 8));
        return mem;
    }

    private static byte[] guardOf(byte[] mem, long dataBytes) {
        return java.util.Arrays.copyOfRange(mem, (int) dataBytes, mem.length);
    }

    @Test
    void thePoisonFillStaysInsideTheAllocation() {
        for (long b : new long[] {0, 1, 2, 3, 4, 6, 10, 14, 4096, 4098}) {
            long alloc = DeviceArena.allocatedBytes(b);
            assertEquals(0, alloc % 4, "whole words for " + b + " bytes");
            assertEquals(true, alloc >= b + DeviceArena.GUARD_BYTES, "a full guard after " + b + " bytes");
            assertEquals(true, alloc - b - DeviceArena.GUARD_BYTES < 4, "at most 3 bytes of padding for " + b);
        }
    }

    @Test
    void anUntouchedGuardIsIntactForEveryAlignment() {
        for (long b : new long[] {2, 4, 6, 8, 10, 2 * 5, 2 * 7}) {
            assertEquals(-1, DeviceArena.firstGuardMismatch(guardOf(poisoned(b), b), b), "bytes " + b);
        }
    }

    @Test
    void oneBf16ElementPastAnOddCountIsCaught() {
        long elements = 7, b = elements * 2;                 // bytes % 4 == 2
        byte[] mem = poisoned(b);
        mem[(int) b] = 0x12;                                 // element 7 of 7, low byte
        mem[(int) b + 1] = 0x34;
        assertEquals(0, DeviceArena.firstGuardMismatch(guardOf(mem, b), b));
    }

    @Test
    void aWriteAtTheGuardsLastByteIsCaught() {
        long b = 10;
        byte[] mem = poisoned(b);
        mem[mem.length - 1] ^= 1;
        assertEquals(mem.length - 1 - (int) b, DeviceArena.firstGuardMismatch(guardOf(mem, b), b));
    }
}

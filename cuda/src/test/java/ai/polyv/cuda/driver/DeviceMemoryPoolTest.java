package ai.polyv.cuda.driver;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pool's bookkeeping over a fake allocator (no GPU needed). */
class DeviceMemoryPoolTest {

    /** Hands out increasing fake addresses, remembers what is live, can be told to run out. */
    static final class FakeAllocator implements DeviceMemoryPool.Allocator {
        final Map<Long, Long> live = new HashMap<>();
        long next = 0x7000_0000_0000L, capacity = Long.MAX_VALUE, used;
        int allocations, frees;

        @Override
        public long allocate(long bytes) {
            if (used + bytes > capacity) return 0;
            long a = next;
            next += bytes + 4096;
            live.put(a, bytes);
            used += bytes;
            allocations++;
            return a;
        }

        @Override
        public void free(long address) {
            Long b = live.remove(address);
            if (b == null) throw new AssertionError("double free of 0x" + Long.toHexString(address));
            used -= b;
            frees++;
        }
    }

    @Test
    void sizeClassesAreFourPerPowerOfTwoAboveTheMinimum() {
        assertEquals(256, DeviceMemoryPool.sizeClass(0));
        assertEquals(256, DeviceMemoryPool.sizeClass(1));
        assertEquals(256, DeviceMemoryPool.sizeClass(256));
        assertEquals(320, DeviceMemoryPool.sizeClass(257));   // 256 + 64
        assertEquals(640, DeviceMemoryPool.sizeClass(600));   // 512 + 128
        assertEquals(1024, DeviceMemoryPool.sizeClass(1000));
        assertEquals(1024, DeviceMemoryPool.sizeClass(1024));
        assertEquals(1280, DeviceMemoryPool.sizeClass(1025));
        long big = 3584L * 18944 * 4;                           // a 7B FFN activation of one token row block
        long cls = DeviceMemoryPool.sizeClass(big);
        assertTrue(cls >= big && cls <= big * 1.25, cls + " for " + big);
        for (long b = 1; b < 1 << 20; b = b * 3 + 1) {
            long c = DeviceMemoryPool.sizeClass(b);
            assertTrue(c >= b && (c <= 256 || c <= b * 1.25 + 1), b + " -> " + c);
        }
    }

    @Test
    void aWarmPoolServesARepeatedStepWithoutNewAllocations() {
        FakeAllocator fake = new FakeAllocator();
        long[] step = {3584 * 4, 3584 * 4, 18944 * 4, 18944 * 4, 152064 * 4, 28 * 4, 600, 17};
        try (DeviceMemoryPool pool = new DeviceMemoryPool(fake)) {
            runStep(pool, step);
            int afterFirst = fake.allocations;
            assertEquals(step.length, afterFirst);
            for (int i = 0; i < 5; i++) runStep(pool, step);
            assertEquals(afterFirst, fake.allocations, "no device allocation once warm");
            DeviceMemoryPool.Stats s = pool.stats();
            assertEquals(step.length, s.deviceAllocations());
            assertEquals(5L * step.length, s.cacheHits());
            assertEquals(0, s.bytesInUse());
            assertEquals(s.bytesReserved(), s.bytesCached());
        }
        assertTrue(fake.live.isEmpty(), "close frees every block");
    }

    private static void runStep(DeviceMemoryPool pool, long[] sizes) {
        List<DeviceBuffer> held = new ArrayList<>();
        for (long b : sizes) held.add(pool.allocate(b));
        for (int i = held.size() - 1; i >= 0; i--) held.get(i).close();
    }

    @Test
    void containsKnowsLiveBlocksOnly() {
        FakeAllocator fake = new FakeAllocator();
        try (DeviceMemoryPool pool = new DeviceMemoryPool(fake)) {
            DeviceBuffer a = pool.allocate(1000);
            DeviceBuffer w = pool.allocateDedicated(5000);
            assertTrue(pool.contains(a.address(), 1000));
            assertTrue(pool.contains(a.address() + 100, 900));
            assertTrue(pool.contains(a.address() + 1000, 24));      // inside the 1024-byte block
            assertFalse(pool.contains(a.address() + 1000, 25));
            assertFalse(pool.contains(a.address() - 1, 2));
            assertTrue(pool.contains(w.address(), 5000));
            assertFalse(pool.contains(w.address(), 5001));
            a.close();
            assertFalse(pool.contains(a.address(), 4), "a released block is not live");
            w.close();
            assertFalse(fake.live.containsKey(w.address()), "dedicated blocks are freed, not cached");
        }
    }

    @Test
    void releasingTwiceIsAnError() {
        try (DeviceMemoryPool pool = new DeviceMemoryPool(new FakeAllocator())) {
            DeviceBuffer a = pool.allocate(10);
            a.close();
            assertThrows(IllegalStateException.class, a::close);
        }
    }

    @Test
    void outOfMemoryTrimsTheCacheAndRetriesOnce() {
        FakeAllocator fake = new FakeAllocator();
        fake.capacity = 4096;
        try (DeviceMemoryPool pool = new DeviceMemoryPool(fake)) {
            pool.allocate(2048).close();            // cached: 2048 of 4096 held
            DeviceBuffer b = pool.allocate(3000);   // class 3072: fails, trims the cached 2048, succeeds
            assertEquals(1, fake.frees);
            assertEquals(3072, fake.used);
            CudaException e = assertThrows(CudaException.class, () -> pool.allocate(3000));
            assertTrue(e.getMessage().contains("out of device memory allocating 3072 bytes"), e.getMessage());
            b.close();
        }
    }

    @Test
    void aClosedPoolRefusesAndFreesLateReleases() {
        FakeAllocator fake = new FakeAllocator();
        DeviceMemoryPool pool = new DeviceMemoryPool(fake);
        DeviceBuffer a = pool.allocate(10);
        pool.close();
        assertTrue(fake.live.isEmpty());
        assertThrows(IllegalStateException.class, () -> pool.allocate(10));
        assertThrows(IllegalStateException.class, a::close, "its block was already freed by close()");
    }

    @Test
    void aCaptureGuardRefusesEveryAllocationUntilLifted() {
        FakeAllocator fake = new FakeAllocator();
        try (DeviceMemoryPool pool = new DeviceMemoryPool(fake)) {
            pool.allocate(1000).close();                      // cached: the guard must refuse even a cache hit
            pool.captureGuard("not inside a CUDA graph capture");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.allocate(1000));
            assertEquals("not inside a CUDA graph capture", e.getMessage());
            assertThrows(IllegalStateException.class, () -> pool.allocateDedicated(64));
            assertEquals(1, fake.allocations);
            pool.captureGuard(null);
            pool.allocate(1000).close();
            assertEquals(1, fake.allocations);                // served from the cache again
        }
    }
}

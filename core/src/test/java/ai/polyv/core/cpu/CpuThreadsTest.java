package ai.polyv.core.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class CpuThreadsTest {
    @Test
    void everyIndexRunsExactlyOnce() {
        try (CpuThreads t = new CpuThreads(4)) {
            assertEquals(4, t.size());
            for (int count : new int[] {1, 2, 3, 5, 16, 17, 1000, 9973}) {
                for (int rep = 0; rep < 20; rep++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(count);
                    t.parallelFor(count, (from, to) -> {
                        assertTrue(from < to && from >= 0 && to <= hits.length());
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), "count " + count + " index " + i);
                }
            }
            t.parallelFor(0, (a, b) -> fail("empty loop ran"));
        }
    }

    @Test
    void nestedLoopRunsInlineAndExceptionsPropagate() {
        try (CpuThreads t = new CpuThreads(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(10 * 7);
            t.parallelFor(10, (f, to) -> {
                for (int i = f; i < to; i++) {
                    int row = i;
                    t.parallelFor(7, (a, b) -> { for (int j = a; j < b; j++) hits.incrementAndGet(row * 7 + j); });
                }
            });
            for (int i = 0; i < 70; i++) assertEquals(1, hits.get(i));
            var ex = assertThrows(IllegalStateException.class, () -> t.parallelFor(100, (a, b) -> {
                if (a <= 50 && 50 < b) throw new IllegalStateException("chunk with 50");
            }));
            assertEquals("chunk with 50", ex.getMessage());
            // the pool still works after a failure
            AtomicIntegerArray again = new AtomicIntegerArray(33);
            t.parallelFor(33, (a, b) -> { for (int i = a; i < b; i++) again.incrementAndGet(i); });
            for (int i = 0; i < 33; i++) assertEquals(1, again.get(i));
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CpuThreads(0));
        try (CpuThreads t = new CpuThreads(1)) {
            assertThrows(IllegalArgumentException.class, () -> t.parallelFor(-1, (a, b) -> {}));
        }
    }
}

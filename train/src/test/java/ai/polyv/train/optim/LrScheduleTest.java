package ai.polyv.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    @Test
    void cosineWithWarmupHandValues() {
        // N = 10, ratio 0.2 -> W = 2; cosine over the 8 remaining steps
        LrSchedule s = LrSchedule.of("cosine", 1.0, 10, 0.2, 0.0);
        assertInstanceOf(LrSchedule.WarmupCosine.class, s);
        assertEquals(2, s.warmupSteps());
        assertEquals(0.0, s.lr(0), 0);          // first step at 0, like HF
        assertEquals(0.5, s.lr(1), 1e-15);
        assertEquals(1.0, s.lr(2), 1e-15);      // progress 0
        assertEquals(0.5, s.lr(6), 1e-15);      // progress 4/8: 0.5*(1+cos(pi/2))
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 7 / 8)), s.lr(9), 1e-15);
        assertEquals((2 + Math.sqrt(2)) / 4, s.lr(4), 1e-15); // progress 1/4: 0.5*(1+cos(pi/4))
        assertEquals(0.0, s.lr(10), 1e-15);
    }

    @Test
    void cosineFloorAndWarmupRoundsUp() {
        LrSchedule s = LrSchedule.of("cosine", 2e-4, 10, 0.25, 2e-5);
        assertEquals(3, s.warmupSteps()); // ceil(2.5)
        assertEquals(2e-4 / 3, s.lr(1), 1e-18);
        assertEquals(2e-5 + (2e-4 - 2e-5) * 0.5 * (1 + Math.cos(Math.PI * 2 / 7)), s.lr(5), 1e-18);
        assertEquals(2e-5, s.lr(10), 1e-18);
        assertTrue(s.lr(9) > 2e-5);
    }

    @Test
    void constantWithWarmup() {
        LrSchedule s = LrSchedule.of("constant", 1e-3, 100, 0.1, 0);
        assertInstanceOf(LrSchedule.WarmupConstant.class, s);
        assertEquals(0.0, s.lr(0), 0);
        assertEquals(5e-4, s.lr(5), 1e-18);
        assertEquals(1e-3, s.lr(10), 0);
        assertEquals(1e-3, s.lr(99), 0);
        assertEquals(1e-3, LrSchedule.of("constant", 1e-3, 100, 0, 0).lr(0), 0); // no warm-up: full rate at once
    }

    @Test
    void badSettingsNameTheOption() {
        assertEquals("--schedule must be cosine or constant, got \"linear\"",
                assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("linear", 1, 10, 0, 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("cosine", 1, 10, 1.5, 0)).getMessage().startsWith("--warmup-ratio"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LrSchedule.of("cosine", 1, 10, 0, 2)).getMessage().contains("floor"));
    }
}

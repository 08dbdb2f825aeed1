package ai.polyv.core.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Expected sizes computed with HF Qwen2-VL's smart_resize (Python) for the same inputs. */
class SmartResizeTest {

    @ParameterizedTest
    @CsvSource({
            "196,252,196,252",    // already multiples of 28
            "480,640,476,644",    // ScanNet depth size
            "100,100,112,112",
            "20,30,56,84",        // below min_pixels: scaled up, ceil
            "4000,3000,1148,840", // above max_pixels: scaled down, floor
            "70,70,56,56",        // 2.5 rounds half to even -> 2
            "42,42,56,56",        // 1.5 rounds half to even -> 2
            "1080,1920,728,1316",
            "300,7000,196,4816",
    })
    void defaults(int h, int w, int eh, int ew) {
        SmartResize.Size s = SmartResize.compute(h, w, 28, SmartResize.DEFAULT_MIN_PIXELS, SmartResize.DEFAULT_MAX_PIXELS);
        assertEquals(new SmartResize.Size(eh, ew), s);
    }

    @Test
    void configurableMaxPixels() {
        assertEquals(new SmartResize.Size(308, 588), SmartResize.compute(1080, 1920, 28, 3136, 200_000));
    }

    @Test
    void rejectsExtremeAspect() {
        assertThrows(IllegalArgumentException.class, () -> SmartResize.compute(1, 300, 28, 3136, 1_003_520));
    }
}

package ai.polyv.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WindowIndexTest {

    @Test
    void partialWindowsAtRightAndBottomEdges() {
        // 196x252 image: grid 14x18 patches -> merged 7x9, windows of 4x4 merged units:
        // columns 0-3, 4-7, 8 and rows 0-3, 4-6 -> 6 windows (golden 'image' case)
        WindowIndex w = WindowIndex.compute(1, 14, 18, 2, 4);
        assertArrayEquals(new int[] {0, 16 * 4, 32 * 4, 36 * 4, 48 * 4, 60 * 4, 63 * 4}, w.cuWindows());
        assertArrayEquals(new int[] {0, 14 * 18}, w.cuFrames());
        // first window: merged rows 0-3, cols 0-3 in row-major order
        assertArrayEquals(new int[] {0, 1, 2, 3, 9, 10, 11, 12, 18, 19, 20, 21, 27, 28, 29, 30},
                java.util.Arrays.copyOfRange(w.order(), 0, 16));
        // third window is the 4x1 right edge column 8
        assertArrayEquals(new int[] {8, 17, 26, 35}, java.util.Arrays.copyOfRange(w.order(), 32, 36));
        // last window is the bottom-right 3x1 corner
        assertArrayEquals(new int[] {44, 53, 62}, java.util.Arrays.copyOfRange(w.order(), 60, 63));
        // patch permutation: 4 consecutive patches per merged unit
        assertArrayEquals(new int[] {32, 33, 34, 35}, java.util.Arrays.copyOfRange(w.patchPerm(), 128, 132));
        // a permutation: every merged unit exactly once
        int[] seen = new int[63];
        for (int u : w.order()) seen[u]++;
        for (int s : seen) assertEquals(1, s);
    }

    @Test
    void temporalSlicesAreWindowedSeparately() {
        WindowIndex w = WindowIndex.compute(2, 4, 4, 2, 4);    // 2x2 merged per slice: one window each
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, w.order());
        assertArrayEquals(new int[] {0, 16, 32}, w.cuWindows());
        assertArrayEquals(new int[] {0, 16, 32}, w.cuFrames());
    }

    @Test
    void windowSmallerThanGrid() {
        WindowIndex w = WindowIndex.compute(1, 6, 2, 2, 2);    // merged 3x1, windows of 2 rows -> [0,1], [2]
        assertArrayEquals(new int[] {0, 1, 2}, w.order());
        assertArrayEquals(new int[] {0, 8, 12}, w.cuWindows());
    }
}

package ai.polyv.cuda;

import ai.polyv.core.backend.ReferenceOps;
import java.util.Random;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host-side index plans of the CUDA row kernels (no GPU needed). */
class RowPlansTest {

    @Test
    void scatterWithoutRepeatsIsTheIndexItself() {
        int[] index = {4, 0, 9};
        RowPlans.Copy c = RowPlans.scatter(index, 10);
        assertNull(c.srcRows());
        assertArrayEquals(index, c.dstRows());
        assertEquals(3, c.count());
    }

    @Test
    void repeatedScatterRowsKeepTheLastWrite() {
        RowPlans.Copy c = RowPlans.scatter(new int[] {2, 7, 2, 2, 0}, 10);
        assertArrayEquals(new int[] {1, 3, 4}, c.srcRows());   // row 2 written last by source 3
        assertArrayEquals(new int[] {7, 2, 0}, c.dstRows());
    }

    @Test
    void aScatterPlanReproducesTheInOrderLoop() {
        Random r = new Random(5);
        for (int t = 0; t < 200; t++) {
            int rows = 1 + r.nextInt(12), n = r.nextInt(20);
            int[] index = new int[n];
            for (int i = 0; i < n; i++) index[i] = r.nextInt(rows);
            int[] expect = new int[rows], got = new int[rows];
            java.util.Arrays.fill(expect, -1);
            java.util.Arrays.fill(got, -1);
            for (int i = 0; i < n; i++) expect[index[i]] = i;         // the CPU backend's loop
            RowPlans.Copy c = RowPlans.scatter(index, rows);
            boolean[] hit = new boolean[rows];
            for (int j = 0; j < c.count(); j++) {
                int d = c.dstRows()[j];
                assertFalse(hit[d], "destinations must be distinct");
                hit[d] = true;
                got[d] = c.srcRows() == null ? j : c.srcRows()[j];
            }
            assertArrayEquals(expect, got, java.util.Arrays.toString(index));
        }
    }

    @Test
    void distinctRows() {
        assertTrue(RowPlans.distinct(new int[] {3, 1, 0}, 4));
        assertFalse(RowPlans.distinct(new int[] {3, 1, 3}, 4));
        assertTrue(RowPlans.distinct(new int[0], 4));
    }

    @Test
    void rowRangesAreCheckedByName() {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> ReferenceOps.requireRows("gatherRows", new int[] {0, 5}, 5));
        assertEquals("gatherRows: index[1] = 5 outside [0, 5)", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> ReferenceOps.requireRows("gatherRows", new int[] {-1}, 5));
    }

    @Test
    void segmentKeyRangesIncludingOneRowAndEmptySegments() {
        RowPlans.KeyRanges k = RowPlans.segments(new int[] {0, 1, 1, 5, 7}, 7);
        assertArrayEquals(new int[] {0, 1, 1, 1, 1, 5, 5}, k.start());
        assertArrayEquals(new int[] {1, 5, 5, 5, 5, 7, 7}, k.end());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> RowPlans.segments(new int[] {0, 4, 3, 7}, 7));
        assertTrue(bad.getMessage().contains("cuSeqlens decreases at 2"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RowPlans.segments(new int[] {0, 6}, 7));
        assertThrows(IllegalArgumentException.class, () -> RowPlans.segments(new int[] {1, 7}, 7));
    }
}

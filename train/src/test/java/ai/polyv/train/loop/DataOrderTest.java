package ai.polyv.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DataOrderTest {

    @Test
    void epochsArePermutationsAndResumeContinuesTheSameOrder() {
        DataOrder a = new DataOrder(5, 7, 0, 0);
        int[] seen = new int[21];
        for (int i = 0; i < 21; i++) seen[i] = a.next();
        for (int e = 0; e < 3; e++) {
            int[] epoch = Arrays.copyOfRange(seen, e * 7, e * 7 + 7);
            assertArrayEquals(DataOrder.permutation(5, 7, e), epoch);
            int[] sorted = epoch.clone();
            Arrays.sort(sorted);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, sorted);
        }
        assertFalse(Arrays.equals(DataOrder.permutation(5, 7, 0), DataOrder.permutation(5, 7, 1)));
        // restart from (epoch 1, cursor 3): the same continuation, peek included
        DataOrder b = new DataOrder(5, 7, 1, 3);
        for (int i = 10; i < 21; i++) {
            assertEquals(seen[i], b.peek());
            assertEquals(seen[i], b.next());
        }
        assertEquals(2, b.epoch()); // the third epoch (0-based 2) is used up; the next call starts epoch 3
        assertEquals(7, b.cursor());
    }
}

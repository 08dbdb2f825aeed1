package ai.polyv.core.model;

import ai.polyv.core.backend.TokenPermutation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TokenPermutationTest {

    @Test
    void groupsByExpertStableByTokenWithAnEmptyExpert() {
        // 4 tokens, top-2 over 4 experts; expert 2 gets nothing
        int[] ids = {3, 0, 0, 3, 1, 0, 3, 1};
        float[] w = {.6f, .4f, .7f, .3f, .5f, .5f, .9f, .1f};
        TokenPermutation p = TokenPermutation.of(4, 2, 4, ids, w);
        assertArrayEquals(new int[] {0, 3, 5, 5, 8}, p.offsets());
        assertArrayEquals(new int[] {0, 1, 2}, p.tokensOf(0));
        assertArrayEquals(new float[] {.4f, .7f, .5f}, p.weightsOf(0));
        assertArrayEquals(new int[] {2, 3}, p.tokensOf(1));
        assertEquals(0, p.count(2));
        assertArrayEquals(new int[0], p.tokensOf(2));
        assertArrayEquals(new int[] {0, 1, 3}, p.tokensOf(3));
        assertArrayEquals(new float[] {.6f, .3f, .9f}, p.weightsOf(3));
    }

    @Test
    void allTokensToOneExpert() {
        int n = 7;
        int[] ids = new int[n];
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 2;
            w[i] = i;
        }
        TokenPermutation p = TokenPermutation.of(n, 1, 3, ids, w);
        assertArrayEquals(new int[] {0, 0, 0, 7}, p.offsets());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, p.tokensOf(2));
        assertArrayEquals(w, p.weightsOf(2));
    }

    @Test
    void rejectsExpertOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> TokenPermutation.of(1, 1, 2, new int[] {2}, new float[] {1}));
    }

    @Test
    void positionsInvertTheStablePermutation() {
        int[] ids = {3, 0, 0, 3, 1, 0, 3, 1};   // 4 tokens, top-2, expert 2 empty (as TokenPermutationTest)
        float[] w = {.6f, .4f, .7f, .3f, .5f, .5f, .9f, .1f};
        int[] pos = TokenPermutation.positions(4, 2, 4, ids);
        assertArrayEquals(new int[] {5, 0, 1, 6, 3, 2, 7, 4}, pos);
        TokenPermutation p = TokenPermutation.of(4, 2, 4, ids, w);
        for (int a = 0; a < ids.length; a++) {
            assertEquals(a / 2, p.tokens()[pos[a]]);
            assertEquals(w[a], p.weights()[pos[a]]);
        }
    }
}

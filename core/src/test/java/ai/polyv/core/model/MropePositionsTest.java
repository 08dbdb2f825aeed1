package ai.polyv.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MropePositionsTest {
    static final int IMG = 2000, VID = 2001, VS = 1998, VE = 1999;

    static ModelDims dims() {
        return new ModelDims(
                new ModelDims.Text(96, 1, 6, 2, 16, 2048, 1e-6f, 1e6, new int[] {2, 3, 3}, 4096, false),
                new ModelDims.Vision(1, 64, 4, 96, 14, 2, 2, 112, new int[] {}, 2.0),
                null, new ModelDims.Tokens(IMG, VID, VS, VE));
    }

    static VisionInput input(VisionInput.Kind kind, int t, int h, int w, double spg) {
        return new VisionInput(kind, new float[t * h * w * 1176], new VisionInput.GridThw(t, h, w), spg, null);
    }

    @Test
    void textImageVideoMix() {
        // text(2) VS image 1x4x6 (merged 2x3 = 6) VE text(1) VS video 2x4x4 at 2 s/grid (merged 2x2x2 = 8) VE text(1)
        int[] ids = new int[2 + 1 + 6 + 1 + 1 + 1 + 8 + 1 + 1];
        int i = 0;
        ids[i++] = 5; ids[i++] = 6; ids[i++] = VS;
        for (int j = 0; j < 6; j++) ids[i++] = IMG;
        ids[i++] = VE; ids[i++] = 7; ids[i++] = VS;
        for (int j = 0; j < 8; j++) ids[i++] = VID;
        ids[i++] = VE; ids[i++] = 8;
        MropePositions p = MropePositions.compute(ids, List.of(
                input(VisionInput.Kind.IMAGE, 1, 4, 6, 1), input(VisionInput.Kind.VIDEO, 2, 4, 4, 2)), dims());
        // text 0,1,2 (VS); image at p=3: t=3, h=3..4, w=3..5
        assertArrayEquals(new long[] {0, 1, 2, 3, 3, 3, 3, 3, 3}, java.util.Arrays.copyOfRange(p.pos()[0], 0, 9));
        assertArrayEquals(new long[] {0, 1, 2, 3, 3, 3, 4, 4, 4}, java.util.Arrays.copyOfRange(p.pos()[1], 0, 9));
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 3, 4, 5}, java.util.Arrays.copyOfRange(p.pos()[2], 0, 9));
        // after the image: max 5 -> VE at 6, text 7, VS 8; video at 9 with t step 2 s * 2 tokens/s = 4
        assertEquals(6, p.pos()[0][9]);
        assertEquals(8, p.pos()[2][11]);
        long[] vt = java.util.Arrays.copyOfRange(p.pos()[0], 12, 20);
        assertArrayEquals(new long[] {9, 9, 9, 9, 13, 13, 13, 13}, vt);
        assertArrayEquals(new long[] {9, 9, 10, 10, 9, 9, 10, 10}, java.util.Arrays.copyOfRange(p.pos()[1], 12, 20));
        // the video's temporal axis reaches 13 (beyond max(h,w)), so VE is at 14 and the last text at 15
        assertEquals(14, p.pos()[1][20]);
        assertEquals(15, p.pos()[2][21]);
        assertEquals(16, p.next());
        assertEquals(16 - ids.length, p.ropeDelta());
        assertArrayEquals(new int[] {3, 12}, p.segments());
    }

    @Test
    void placeholderCountMustMatchMergedTokens() {
        int[] ids = {VS, IMG, IMG, IMG, VE};
        var ex = assertThrows(IllegalArgumentException.class,
                () -> MropePositions.compute(ids, List.of(input(VisionInput.Kind.IMAGE, 1, 4, 4, 1)), dims()));
        assertTrue(ex.getMessage().contains("3 placeholder tokens") && ex.getMessage().contains("4 merged tokens"), ex.getMessage());
    }

    @Test
    void segmentsMustMatchInputs() {
        int[] ids = {VS, IMG, VE};
        var few = assertThrows(IllegalArgumentException.class, () -> MropePositions.compute(ids, List.of(), dims()));
        assertTrue(few.getMessage().contains("0 vision inputs"), few.getMessage());
        var many = assertThrows(IllegalArgumentException.class, () -> MropePositions.compute(new int[] {1, 2},
                List.of(input(VisionInput.Kind.IMAGE, 1, 2, 2, 1)), dims()));
        assertTrue(many.getMessage().contains("0 vision placeholder segments but 1"), many.getMessage());
        var kind = assertThrows(IllegalArgumentException.class, () -> MropePositions.compute(new int[] {VID},
                List.of(input(VisionInput.Kind.IMAGE, 1, 2, 2, 1)), dims()));
        assertTrue(kind.getMessage().contains("video placeholders"), kind.getMessage());
    }
}

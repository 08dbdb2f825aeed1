package ai.polyv.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.train.autograd.Param;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradClipTest {

    private static List<Param> params() {
        // grads (3, 4) and (12): total norm sqrt(9 + 16 + 144) = 13
        return List.of(new Param("a", new long[] {2}, new float[2], new float[] {3, 4}),
                new Param("b", new long[] {1, 1}, new float[1], new float[] {12}));
    }

    @Test
    void clipsToMaxNormWithTorchCoefficient() {
        List<Param> p = params();
        assertEquals(13.0, GradClip.clip(p, 6.5), 0);
        float coef = (float) (6.5 / (13 + 1e-6)); // torch: max_norm / (total_norm + 1e-6)
        assertArrayEquals(new float[] {3 * coef, 4 * coef}, p.get(0).grad());
        assertArrayEquals(new float[] {12 * coef}, p.get(1).grad());
        assertEquals(1.5f, p.get(0).grad()[0], 1e-6f);
        assertEquals(6.5, GradClip.globalNorm(p), 1e-5);
    }

    @Test
    void leavesSmallGradientsAlone() {
        List<Param> p = params();
        assertEquals(13.0, GradClip.clip(p, 20), 0);
        assertArrayEquals(new float[] {3, 4}, p.get(0).grad());
        assertEquals(13.0, GradClip.clip(p, 13), 0); // coef = 13/(13+1e-6) < 1: torch scales here too
        assertEquals(3 * (float) (13 / (13 + 1e-6)), p.get(0).grad()[0]);
    }

    @Test
    void zeroDisablesAndNonFiniteIsReported() {
        List<Param> p = params();
        assertEquals(13.0, GradClip.clip(p, 0), 0);
        assertArrayEquals(new float[] {12}, p.get(1).grad());
        p.get(1).grad()[0] = Float.NaN;
        assertEquals(Double.NaN, GradClip.clip(p, 1), 0);
        assertArrayEquals(new float[] {3, 4}, p.get(0).grad());
    }
}

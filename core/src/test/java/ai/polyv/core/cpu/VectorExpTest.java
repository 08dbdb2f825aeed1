package ai.polyv.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The fixed-order vector helpers that keep CPU kernels bitwise reproducible. */
class VectorExpTest {

    @Test
    void expIsWithinTwoUlpOfMathExpOverTheFloatRange() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[VectorOps.L];
        float[] y = new float[VectorOps.L];
        double worst = 0;
        for (int it = 0; it < 20_000; it++) {
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 174 - 87);   // [-87, 87]
            VectorOps.exp(FloatVector.fromArray(VectorOps.FS, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
            }
        }
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp");
        // exact points and clamping
        float[] special = new float[VectorOps.L];
        special[0] = 0f;
        if (special.length > 2) {
            special[1] = -200f;
            special[2] = 200f;
        }
        VectorOps.exp(FloatVector.fromArray(VectorOps.FS, special, 0)).intoArray(y, 0);
        assertEquals(1f, y[0]);
        if (special.length > 2) {
            assertTrue(y[1] >= 0 && y[1] < 1e-37f, "exp(-200) clamps to the smallest normals: " + y[1]);
            assertTrue(Float.isFinite(y[2]) && y[2] > 1e38f, "exp(200) clamps below infinity: " + y[2]);
        }
    }

    @Test
    void sumLanesIsAFixedButterfly() {
        float[] v = new float[VectorOps.L];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int it = 0; it < 1000; it++) {
            for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8)));
            // the same butterfly in scalar code: step h adds lane (i + h) mod L to lane i
            float[] t = v.clone();
            for (int h = t.length / 2; h >= 1; h /= 2) {
                float[] n = new float[t.length];
                for (int i = 0; i < t.length; i++) n[i] = t[i] + t[(i + h) % t.length];
                t = n;
            }
            assertEquals(t[0], VectorOps.sumLanes(FloatVector.fromArray(VectorOps.FS, v, 0)));
        }
    }
}

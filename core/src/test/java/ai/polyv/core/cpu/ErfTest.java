package ai.polyv.core.cpu;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ErfTest {
    @Test
    void referenceMatchesKnownValues() {
        // values of erf / erfc from A&S table 7.1 and scipy.special (double)
        assertEquals(0.0, Erf.erfRef(0.0));
        assertEquals(0.1124629160182849, Erf.erfRef(0.1), 1e-16);
        assertEquals(0.8427007929497148, Erf.erfRef(1.0), 1e-15);
        assertEquals(-0.9953222650189527, Erf.erfRef(-2.0), 1e-15);
        assertEquals(0.9999999845827421, Erf.erfRef(4.0), 1e-15);
        assertEquals(1.0, Erf.erfRef(7.0));
        assertEquals(1.541725790028002e-08, Erf.erfcRef(4.0), 1e-21);
        assertEquals(2.1519736712498913e-17, Erf.erfcRef(6.0), 1e-29);
        assertEquals(0.004677734981047266, Erf.erfcRef(2.0), 1e-17);
        assertEquals(1.8427007929497148, Erf.erfcRef(-1.0), 1e-15);
    }

    @Test
    void floatErfWithin2e7OfDoubleReference() {
        double maxAbs = 0;
        for (int i = -2_000_000; i <= 2_000_000; i++) {
            float x = i * 5e-6f;                                       // [-10, 10]
            double err = Math.abs(VectorOps.erf(x) - Erf.erfRef(x));
            maxAbs = Math.max(maxAbs, err);
        }
        assertTrue(maxAbs < 2e-7, "max |erf error| " + maxAbs);
        assertEquals(1f, VectorOps.erf(Float.POSITIVE_INFINITY));
        assertEquals(-1f, VectorOps.erf(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(VectorOps.erf(Float.NaN)));
    }

    @Test
    void erfcKeepsRelativeAccuracyInTheTail() {
        double maxRel = 0;
        for (float a = 1f; a < 9f; a += 1e-4f) {
            double ref = Erf.erfcRef(a);
            maxRel = Math.max(maxRel, Math.abs(VectorOps.erfcNonNeg(a) - ref) / ref);
        }
        assertTrue(maxRel < 2e-6, "max erfc relative error " + maxRel);
    }

    @Test
    void vectorGeluMatchesScalarTwinAndReference() {
        int n = VectorOps.L * 4096;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (i - n / 2) * (24f / n);    // [-12, 12)
        float[] out = new float[n];
        CpuKernels.geluErf(java.lang.foreign.MemorySegment.ofArray(x), n, java.lang.foreign.MemorySegment.ofArray(out));
        for (int i = 0; i < n; i++) {
            double ref = Erf.geluRef(x[i]);
            assertEquals(ref, out[i], 3e-7 * Math.max(1, Math.abs(x[i])) , "gelu(" + x[i] + ")");
            // relative accuracy also for tiny negative-side values (erfc form); the float rounding of
            // z = x / sqrt 2 alone moves exp(-z^2) by up to 2 z^2 * 6e-8 relative (plus exp and fit error), so the bound grows with z^2
            double z2 = (double) x[i] * x[i] / 2;
            if (Math.abs(ref) > 1e-30) assertEquals(0, (out[i] - ref) / ref, 3e-6 + 1.5e-7 * z2, "gelu rel (" + x[i] + ")");
        }
    }
}

package ai.polyv.runtime.cpu;

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
}

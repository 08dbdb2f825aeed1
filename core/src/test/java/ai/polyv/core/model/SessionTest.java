package ai.polyv.core.model;

import static ai.polyv.testsupport.RelativeError.relL2;
import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Session behaviour on the tiny-a golden checkpoint (MoE in layers 0 and 4, 4 experts, top-2). */
class SessionTest {
    static CpuBackend be;
    static PolyVModel model;
    static final int[] PROMPT = {1988, 17, 230, 1500, 42, 7, 99, 1023};

    @BeforeAll
    static void load() {
        be = new CpuBackend(2);
        model = PolyVModel.load(SharedData.golden("tiny-a"), be);
    }

    @AfterAll
    static void close() {
        model.close();
        be.close();
    }


    @Test
    void decodeStepsReproduceAFullPrefill() {
        float[] full;
        try (Session s = model.newSession(16)) {
            full = s.prefill(PROMPT, List.of());
        }
        try (Session s = model.newSession(16)) {
            s.prefill(Arrays.copyOf(PROMPT, 5), List.of());
            float[] last = null;
            for (int i = 5; i < PROMPT.length; i++) last = s.decode(PROMPT[i]);
            assertEquals(PROMPT.length, s.length());
            assertTrue(relL2(last, full) < 1e-5, "decode logits differ from prefill: " + relL2(last, full));
        }
    }

    @Test
    void routingStatsCountEveryAssignment() {
        try (Session s = model.newSession(12)) {
            s.prefill(PROMPT, List.of());
            s.decode(3);
            RoutingStats st = s.routingStats();
            assertArrayEquals(new int[] {0, 4}, st.moeLayers());
            for (int layer : st.moeLayers()) {
                assertEquals(2L * (PROMPT.length + 1), Arrays.stream(st.tokensPerExpert(layer)).sum());
                assertEquals(2L * (PROMPT.length + 1), Arrays.stream(st.tokensPerExpert(layer, RoutingStats.Modality.TEXT)).sum());
                assertEquals(0, Arrays.stream(st.tokensPerExpert(layer, RoutingStats.Modality.IMAGE)).sum());
            }
        }
    }

    @Test
    void invalidInputsFailWithClearMessages() {
        try (Session s = model.newSession(8)) {
            var ex = assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[] {1, 2, 2048}, List.of()));
            assertTrue(ex.getMessage().contains("token id 2048 at position 2"), ex.getMessage());
            var ex2 = assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[] {1, -1}, List.of()));
            assertTrue(ex2.getMessage().contains("token id -1 at position 1"), ex2.getMessage());
            var ex3 = assertThrows(IllegalArgumentException.class, () -> s.prefill(new int[9], List.of()));
            assertTrue(ex3.getMessage().contains("exceeds the session's maxTokens 8"), ex3.getMessage());
            assertThrows(IllegalStateException.class, () -> s.decode(1));
        }
        try (Session s = model.newSession(3)) {
            s.prefill(new int[] {1, 2}, List.of());
            s.decode(5);
            var full = assertThrows(IllegalArgumentException.class, () -> s.decode(5));
            assertTrue(full.getMessage().contains("session is full"), full.getMessage());
        }
        var big = assertThrows(IllegalArgumentException.class, () -> model.newSession(4097));
        assertTrue(big.getMessage().contains("max_position_embeddings"), big.getMessage());
    }

    @Test
    void pe3dIsAddedToTheMergerRows() {
        VisionInput.GridThw g = new VisionInput.GridThw(1, 4, 4);
        float[] pix = new float[16 * 1176];
        for (int i = 0; i < pix.length; i++) pix[i] = (float) Math.sin(i * 0.01);
        VisionOutput plain = model.encodeVision(new VisionInput(VisionInput.Kind.VIDEO, pix, g, 1, null));
        float[] pe = new float[4 * 96];
        for (int i = 0; i < pe.length; i++) pe[i] = i * 0.001f;
        VisionOutput with = model.encodeVision(new VisionInput(VisionInput.Kind.VIDEO, pix, g, 1, pe));
        assertEquals(4, with.mergedTokens());
        for (int i = 0; i < pe.length; i++) assertEquals(plain.rows()[i] + pe[i], with.rows()[i], 1e-6);
        var bad = assertThrows(IllegalArgumentException.class,
                () -> model.encodeVision(new VisionInput(VisionInput.Kind.VIDEO, pix, g, 1, new float[5])));
        assertTrue(bad.getMessage().contains("pe3d"), bad.getMessage());
    }

    @Test
    void synergyHeadShapes() {
        float[] x = new float[3 * 96];
        Arrays.fill(x, 0.1f);
        assertEquals(3 * 64, model.synergyHead(PolyVModel.SynergyHead.TEMPORAL, x, 3).length);
        assertEquals(3 * 48, model.synergyHead(PolyVModel.SynergyHead.SPATIAL, x, 3).length);
    }
}

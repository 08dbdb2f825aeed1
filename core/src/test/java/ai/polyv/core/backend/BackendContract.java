package ai.polyv.core.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.safetensors.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Backend} promises, on values small enough to compute by hand: each op's result
 * (exact where the arithmetic is exact), outputs written completely, workspaces that own their
 * tensors, and loud failures naming the op for arguments it cannot take. Each backend runs it through a subclass
 * ({@code CpuBackendContractTest} in core; {@code CudaBackendContractTest} in cuda, on a device or on the
 * emulated device). Comparisons between backends on random data live in the op harness.
 */
public abstract class BackendContract {

    /** A fresh backend, or an aborted assumption saying why there is none here. */
    protected abstract Backend open();

    private Backend be;
    private Arena arena;

    @BeforeEach
    void openBackend() {
        be = open();
        arena = Arena.ofShared();   // the CPU backend's worker threads read weights
    }

    @AfterEach
    void closeBackend() {
        if (be != null) be.close();
        if (arena != null) arena.close();
    }

    /** An F32 weight of {@code values} (host bytes kept alive for the test). */
    private Tensor weight(float[] values, long... shape) {
        MemorySegment m = arena.allocate(4L * values.length);
        MemorySegment.copy(values, 0, m, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
        return be.weight(DType.F32, m, shape);
    }

    @Test
    void matmulWithBiasIsXTimesWTransposedPlusBias() {
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);               // [2, 3]
            Tensor w = weight(new float[] {1, 0, 0, 0, 1, 0, 1, 1, 1, 2, 0, -1}, 4, 3);   // [4, 3]
            Tensor bias = weight(new float[] {0.5f, 0, 0, -1}, 4);
            Tensor out = ws.f32(2, 4);
            be.matmul(x, w, bias, out);
            assertArrayEquals(new float[] {1.5f, 2, 6, -2, 4.5f, 5, 15, 1}, be.download(out));
            Tensor noBias = ws.f32(2, 4);
            be.matmul(x, w, null, noBias);
            assertArrayEquals(new float[] {1, 2, 6, -1, 4, 5, 15, 2}, be.download(noBias));
        }
    }

    @Test
    void rmsNormScalesEachRowToUnitRootMeanSquare() {
        try (Workspace ws = be.workspace()) {
            Tensor x = ws.f32(new float[] {3, 4, 0, 0}, 2, 2), out = ws.f32(2, 2);   // rms of (3, 4) = sqrt(12.5)
            be.rmsNorm(x, weight(new float[] {1, 2}, 2), 1e-6f, out);
            float r = (float) (1 / Math.sqrt(12.5 + 1e-6));
            float[] got = be.download(out);
            assertEquals(3 * r, got[0], 1e-6);
            assertEquals(8 * r, got[1], 1e-6);
            assertEquals(0, got[2]);   // an all-zero row stays zero (eps keeps the scale finite)
            assertEquals(0, got[3]);
        }
    }

    @Test
    void elementwiseOps() {
        try (Workspace ws = be.workspace()) {
            Tensor a = ws.f32(new float[] {0, 1, -2, 3}, 4), b = ws.f32(new float[] {1, 2, 3, 4}, 4), out = ws.f32(4);
            be.add(a, b, out);
            assertArrayEquals(new float[] {1, 3, 1, 7}, be.download(out));
            be.siluMul(a, b, out);                                   // silu(a) * b
            float[] got = be.download(out);
            float[] want = {0, (float) (1 / (1 + Math.exp(-1))) * 2, (float) (-2 / (1 + Math.exp(2))) * 3, (float) (3 / (1 + Math.exp(-3))) * 4};
            for (int i = 0; i < 4; i++) assertEquals(want[i], got[i], 1e-6, "siluMul " + i);
            be.gelu(a, out);                                         // 0.5 x (1 + erf(x / sqrt 2))
            got = be.download(out);
            assertEquals(0, got[0]);
            assertEquals(0.8413447f, got[1], 1e-6);
            assertEquals(-0.04550026f, got[2], 1e-6);
            be.fill(out, 2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f}, be.download(out));
            Tensor copy = ws.f32(4);
            be.copy(b, copy);
            assertArrayEquals(new float[] {1, 2, 3, 4}, be.download(copy));
        }
    }

    @Test
    void rowMovement() {
        try (Workspace ws = be.workspace()) {
            Tensor table = weight(new float[] {0, 0, 1, 1, 2, 2, 3, 3}, 4, 2);
            Tensor out = ws.f32(3, 2);
            be.embedding(table, new int[] {3, 0, 3}, out);
            assertArrayEquals(new float[] {3, 3, 0, 0, 3, 3}, be.download(out));
            Tensor src = ws.f32(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), g = ws.f32(2, 2);
            be.gatherRows(src, new int[] {2, 0}, g);
            assertArrayEquals(new float[] {5, 6, 1, 2}, be.download(g));
            Tensor s = ws.f32(4, 2);
            be.scatterRows(src, new int[] {3, 1, 3}, s);              // a repeated row keeps the last write
            assertArrayEquals(new float[] {0, 0, 3, 4, 0, 0, 5, 6}, be.download(s));
            Tensor acc = ws.f32(2, 2);
            be.scatterAddScaled(src, new int[] {1, 1, 0}, new float[] {1, 0.5f, 2}, acc);
            assertArrayEquals(new float[] {10, 12, 2.5f, 4}, be.download(acc));
            assertThrows(IllegalArgumentException.class, () -> be.embedding(table, new int[] {4}, ws.f32(1, 2)), "an id outside the table");
        }
    }

    @Test
    void oneKeyAttentionReturnsItsValue() {
        try (Workspace ws = be.workspace()) {
            // 1 query, 2 heads of 4, one visible key per head: softmax of one score is 1, so out = v
            Tensor q = ws.f32(new float[] {1, 2, 3, 4, -1, 0, 1, 0}, 1, 8);
            Tensor k = ws.f32(new float[] {5, 5, 5, 5, 1, 1, 1, 1}, 1, 8);
            Tensor v = ws.f32(new float[] {1, 2, 3, 4, 9, 8, 7, 6}, 1, 8);
            Tensor out = ws.f32(1, 8);
            be.attentionCausal(q, k, v, out, 2, 2, 0);
            assertArrayEquals(new float[] {1, 2, 3, 4, 9, 8, 7, 6}, be.download(out));
            Tensor seg = ws.f32(1, 8);
            be.attentionSegments(q, k, v, seg, 2, new int[] {0, 1});
            assertArrayEquals(new float[] {1, 2, 3, 4, 9, 8, 7, 6}, be.download(seg));
        }
    }

    @Test
    void softmaxTopKPicksTheLargestAndTiesGoToTheLowerId() {
        try (Workspace ws = be.workspace()) {
            Tensor logits = ws.f32(new float[] {0, 2, 2, -1, 1, 1, 1, 1}, 2, 4);
            int[] ids = new int[4];
            float[] w = new float[4];
            be.softmaxTopK(logits, 2, true, ids, w);
            assertArrayEquals(new int[] {1, 2, 0, 1}, ids);
            assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, w, 1e-6f);
        }
    }

    @Test
    void aClosedWorkspaceRefusesNewTensors() {
        Workspace ws = be.workspace();
        ws.close();
        assertThrows(IllegalStateException.class, () -> ws.f32(2));
    }

    @Test
    void badArgumentsFailLoudlyNamingTheOp() {
        try (Workspace ws = be.workspace()) {
            IllegalArgumentException add = assertThrows(IllegalArgumentException.class, () -> be.add(ws.f32(3), ws.f32(4), ws.f32(4)));
            assertTrue(add.getMessage().startsWith("add"), add.getMessage());
            Tensor w = weight(new float[6], 2, 3);
            IllegalArgumentException mm = assertThrows(IllegalArgumentException.class, () -> be.matmul(ws.f32(1, 4), w, null, ws.f32(1, 2)));
            assertTrue(mm.getMessage().startsWith("matmul"), mm.getMessage());
            // a row index outside the tensor (the CPU backend used to fail inside MemorySegment.copy, unnamed)
            IndexOutOfBoundsException gather = assertThrows(IndexOutOfBoundsException.class,
                    () -> be.gatherRows(ws.f32(2, 2), new int[] {2}, ws.f32(1, 2)));
            assertEquals("gatherRows: index[0] = 2 outside [0, 2)", gather.getMessage());
            IndexOutOfBoundsException scatter = assertThrows(IndexOutOfBoundsException.class,
                    () -> be.scatterRows(ws.f32(1, 2), new int[] {-1}, ws.f32(2, 2)));
            assertEquals("scatterRows: index[0] = -1 outside [0, 2)", scatter.getMessage());
        }
    }
}

package ai.polyv.loader.safetensors;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetensorsFileTest {
    private static final Path TINY_A = SharedData.golden("tiny-a").resolve("model.safetensors");

    @Test
    void readsTinyAWithValuesFromNumpy() {
        try (SafetensorsFile f = SafetensorsFile.open(TINY_A)) {
            assertEquals(157, f.names().size());
            assertEquals(Map.of("format", "pt"), f.metadata());
            TensorView norm = f.tensor("model.norm.weight");
            assertEquals(DType.F32, norm.dtype());
            assertArrayEquals(new long[] {96}, norm.shape());
            assertEquals(96 * 4, norm.data().byteSize());
            float[] v = norm.toFloatArray();
            // reference: numpy.frombuffer of the same bytes
            assertEquals(0.8572932481765747f, v[0]);
            assertEquals(0.9617581367492676f, v[1]);
            assertEquals(1.1071617603302002f, v[3]);
            double sum = 0;
            for (float x : v) {
                sum += x;
            }
            assertEquals(94.47655838727951, sum, 1e-9);
            assertArrayEquals(new long[] {64, 3, 2, 14, 14}, f.tensor("visual.patch_embed.proj.weight").shape());
            assertTrue(f.has("lm_head.weight"));
            assertFalse(f.has("nope"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.tensor("nope"));
            assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("\"nope\""), e.getMessage());
        }
    }

    @Test
    void readsIntegerTensors() {
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.golden("tiny-a").resolve("golden.safetensors"))) {
            TensorView ids = f.tensor("text.input_ids");
            assertEquals(DType.I64, ids.dtype());
            assertArrayEquals(new long[] {14}, ids.shape());
            int[] a = ids.toIntArray();
            assertArrayEquals(new int[] {1988, 1972, 134, 1910, 208, 1623, 679, 556}, java.util.Arrays.copyOf(a, 8));
            assertEquals(1988L, ids.toLongArray()[0]);
            assertEquals(1988f, ids.toFloatArray()[0]);
            assertThrows(SafetensorsException.class, () -> f.tensor("text.logits").toLongArray());
        }
    }

    @Test
    void copyToFloat32MatchesToFloatArray() {
        try (SafetensorsFile f = SafetensorsFile.open(TINY_A); Arena arena = Arena.ofConfined()) {
            TensorView t = f.tensor("model.embed_tokens.weight");
            MemorySegment dst = arena.allocate(t.numel() * 4);
            t.copyToFloat32(dst);
            float[] ref = t.toFloatArray();
            assertArrayEquals(ref, dst.toArray(ValueLayout.JAVA_FLOAT));
            assertThrows(SafetensorsException.class, () -> t.copyToFloat32(arena.allocate(8)));
        }
    }

    @Test
    void closeUnmaps() {
        TensorView t;
        try (SafetensorsFile f = SafetensorsFile.open(TINY_A)) {
            t = f.tensor("model.norm.weight");
        }
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void missingFileIsALoaderError() {
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> SafetensorsFile.open(Path.of("/nonexistent/x.safetensors")));
        assertTrue(e.getMessage().contains("/nonexistent/x.safetensors"), e.getMessage());
    }
}

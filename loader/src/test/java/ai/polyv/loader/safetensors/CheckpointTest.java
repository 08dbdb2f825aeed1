package ai.polyv.loader.safetensors;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CheckpointTest {
    @Test
    void opensShardedTinyC() {
        Path dir = SharedData.golden("tiny-c");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(111, c.names().size());
            assertEquals(4, c.files().size());
            assertEquals("40135872", c.metadata().get("total_size"));
            TensorView norm = c.tensor("model.norm.weight");
            assertEquals(DType.BF16, norm.dtype());
            assertArrayEquals(new long[] {896}, norm.shape());
            assertEquals("model-00003-of-00004.safetensors", c.fileOf("model.norm.weight").path().getFileName().toString());
            float[] v = norm.toFloatArray();
            // reference: numpy, bf16 bits << 16 viewed as float32
            assertEquals(0.92578125f, v[0]);
            assertEquals(1.03125f, v[1]);
            assertEquals(0.99609375f, v[2]);
            assertEquals(1.0546875f, v[3]);
            double sum = 0;
            for (float x : v) {
                sum += x;
            }
            assertEquals(895.54296875, sum, 1e-9);
            long total = 0;
            for (String n : c.names()) {
                total += c.tensor(n).byteSize();
            }
            assertEquals(40135872L, total);
            assertTrue(c.has("lm_head.weight"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> c.tensor("model.nope"));
            assertTrue(e.getMessage().contains("model.nope"));
        }
    }

    @Test
    void opensSingleFileFolderAndFile() {
        Path dir = SharedData.golden("tiny-a");
        try (Checkpoint c = Checkpoint.open(dir); Checkpoint f = Checkpoint.open(dir.resolve("model.safetensors"))) {
            assertEquals(157, c.names().size());
            assertEquals(c.names(), f.names());
            assertEquals(dir.toAbsolutePath(), f.dir());
        }
    }
}

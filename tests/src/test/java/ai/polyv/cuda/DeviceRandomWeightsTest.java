package ai.polyv.cuda;

import ai.polyv.cuda.driver.CudaProbe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.bench.ModelConfigs;
import ai.polyv.core.cpu.WeightFormat;
import ai.polyv.core.model.WeightSource;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Device-made random weights: the host mirror of the kernel's hash, the 1-D tensors, and (with a GPU) the kernel itself. */
class DeviceRandomWeightsTest {

    @Test
    void hashIsSplitmix64OfSeedAndIndex() {
        assertEquals(-1.0f, DeviceRandomWeights.value(0, 0, 1f));          // splitmix64(0) = 0: u = 0
        float a = DeviceRandomWeights.value(7, 123, 0.5f);
        assertEquals(a, DeviceRandomWeights.value(7, 123, 0.5f));
        assertNotEquals(a, DeviceRandomWeights.value(7, 124, 0.5f));
        double sum = 0, sq = 0;
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            float v = DeviceRandomWeights.value(42, i, 1f);
            assertTrue(v >= -1f && v < 1f, "value " + v + " outside [-1, 1)");
            sum += v;
            sq += v * v;
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1 / Math.sqrt(3), Math.sqrt(sq / n), 0.01);            // uniform [-1, 1): std 1/sqrt 3
        assertNotEquals(DeviceRandomWeights.tensorSeed(1, "model.layers.0.mlp.gate.weight"),
                DeviceRandomWeights.tensorSeed(1, "model.layers.1.mlp.gate.weight"));
    }

    @Test
    void matricesHaveNoHostBytesAndVectorsAreOnesOrZeros() {
        try (DeviceRandomWeights w = new DeviceRandomWeights(ModelConfigs.polyv7b(), null, 1)) {
            WeightSource.Raw m = w.get("model.layers.0.mlp.experts.3.down_proj.weight");
            assertArrayEquals(new long[] {3584, 18944}, m.shape());
            assertEquals(DType.BF16, m.dtype());
            assertEquals(0, m.data().byteSize());
            WeightSource.Raw norm = w.get("model.norm.weight"), bias = w.get("model.layers.3.self_attn.q_proj.bias");
            assertEquals(2 * 3584, norm.data().byteSize());
            assertEquals((short) 0x3F80, norm.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 3583));   // 1.0
            assertEquals((short) 0, bias.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 100));
            assertTrue(w.has("lm_head.weight"));
            assertEquals("device random weights have no tensor 'model.layers.28.mlp.gate.weight'",
                    assertThrows(IllegalArgumentException.class, () -> w.get("model.layers.28.mlp.gate.weight")).getMessage());
        }
    }

    @Test
    void kernelMatchesTheHostMirror() {
        CudaProbe probe = CudaProbe.probe();
        Assumptions.assumeTrue(probe.available(), () -> probe.skipMessage("random_uniform kernel test"));
        try (CudaBackend be = CudaBackend.open(CudaBackend.Precision.BF16)) {
            Tensor t = be.randomWeight(DType.BF16, 99, 0.5f, 37, 1001);
            float[] got = be.download(t);
            for (int i = 0; i < got.length; i++) {
                float want = Float.intBitsToFloat((WeightFormat.toBf16(DeviceRandomWeights.value(99, i, 0.5f)) & 0xFFFF) << 16);
                assertEquals(want, got[i], 0f, "element " + i);
            }
        }
        try (CudaBackend be = CudaBackend.open(CudaBackend.Precision.F32)) {
            Tensor t = be.randomWeight(DType.BF16, 5, 1f, 3, 7);            // F32 precision stores F32
            assertEquals(DType.F32, t.dtype());
            float[] got = be.download(t);
            for (int i = 0; i < got.length; i++) assertEquals(DeviceRandomWeights.value(5, i, 1f), got[i], 0f, "element " + i);
        }
    }
}

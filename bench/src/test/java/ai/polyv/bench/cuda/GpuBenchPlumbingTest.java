package ai.polyv.bench.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.bench.Bound;
import ai.polyv.bench.Ceilings;
import ai.polyv.bench.ModelConfigs;
import ai.polyv.cuda.CudaBackend;
import ai.polyv.core.model.VisionInput;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The host-side arithmetic and argument checks of {@code bench kernels / moe / e2e} on the GPU (no device needed). */
class GpuBenchPlumbingTest {
    static final GpuCeilings C = new GpuCeilings(3000, 800, 50);

    @Test
    void rowsAreJudgedAgainstTheLargerFloor() {
        GpuResults.Row mem = GpuResults.row(C, "copy", "3 GB", 2.0, 3e9, 0, true, OptionalDouble.empty());
        assertEquals(Bound.MEMORY, mem.bound());
        assertEquals(1.0, mem.floorMs(), 1e-12);                          // 3e9 B / 3000 GB/s
        assertEquals(0.5, mem.fraction(), 1e-12);
        assertEquals(1500, mem.rate(), 1e-9);
        assertEquals("GB/s", mem.unit());
        assertEquals("copy @ 3 GB", mem.name());
        assertNull(mem.pytorchMs());

        GpuResults.Row bf16 = GpuResults.row(C, "gemm", "big", 4.0, 3e6, 8e11, true, OptionalDouble.empty());
        assertEquals(Bound.COMPUTE, bf16.bound());
        assertEquals(1.0, bf16.floorMs(), 1e-12);                         // 8e11 / 800 TFLOP/s
        assertEquals(0.25, bf16.fraction(), 1e-12);
        assertEquals(200, bf16.rate(), 1e-9);
        GpuResults.Row fp32 = GpuResults.row(C, "gemm", "big", 32.0, 3e6, 8e11, false, OptionalDouble.empty());
        assertEquals(16.0, fp32.floorMs(), 1e-12);                        // 8e11 / 50 TFLOP/s
        assertEquals(0.5, fp32.fraction(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> GpuResults.row(C, "x", "y", 0, 1, 1, true, OptionalDouble.empty()));
    }

    @Test
    void pytorchReferencesComeFromGpuMd() {
        assertEquals(0.052, GpuResults.PytorchReference.ROUTER.at(4096).getAsDouble());
        assertTrue(GpuResults.PytorchReference.ROUTER.at(256).isEmpty());
        assertEquals(0.77, GpuResults.PytorchReference.EXPERTS.at(256).getAsDouble());
        assertEquals(5.65, GpuResults.PytorchReference.EXPERTS.at(4096).getAsDouble());
        GpuResults sink = new GpuResults(C);
        GpuResults.Row r = sink.add("moe_router_v2", "4096 tokens", 0.026, 1e6, 1e8, true, GpuResults.PytorchReference.ROUTER.at(4096));
        assertEquals(2.0, r.vsPytorch(), 1e-12);
        String table = GpuResults.table(sink.rows());
        assertTrue(table.startsWith("kernel"), table);
        assertTrue(table.contains("0.052") && table.contains("2.00x"), table);
    }

    @Test
    void ceilingsForTheMoeTableUseThePrecisionsGemmPeak() {
        Ceilings bf16 = C.asCeilings(true), fp32 = C.asCeilings(false);
        assertEquals(800e3, bf16.fmaGflopsAll(), 1e-6);
        assertEquals(50e3, fp32.fmaGflopsAll(), 1e-6);
        assertEquals(3000, bf16.copyGBs(), 1e-12);
        assertEquals(1e-3, bf16.memoryFloorSeconds(3e9), 1e-15);
        assertEquals(1e-3, C.floorSeconds(3e9, 8e11, true), 1e-15);
        assertEquals(16e-3, C.floorSeconds(3e9, 8e11, false), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new GpuCeilings(0, 800, 50));
    }

    @Test
    void kernelGroupsAreCheckedByName() {
        assertEquals(List.of("ops", "fused", "router", "permutation", "experts", "attention"), GpuKernelsBench.groups(null));
        assertEquals(List.of("experts", "router"), GpuKernelsBench.groups(List.of("experts", "router")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuKernelsBench.groups(List.of("gemm")));
        assertEquals("--only: unknown group 'gemm' (expected some of [ops, fused, router, permutation, experts, attention])", e.getMessage());
    }

    @Test
    void e2eOptionsAreValidated() {
        E2eBench.Options ok = new E2eBench.Options("polyv-7b", true, "cuda-bf16", List.of(1, 8), 32, 3);
        assertEquals(CudaBackend.Precision.BF16, ok.precision());
        assertEquals(CudaBackend.Precision.F32, new E2eBench.Options("polyv-7b", true, "cuda", List.of(1), 1, 1).precision());
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", false, "cuda", List.of(1), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("qwen", true, "cuda", List.of(1), 1, 1));
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", true, "cpu", List.of(1), 1, 1));
        assertEquals("bench e2e runs on the GPU: --backend must be cuda or cuda-bf16, got 'cpu'", cpu.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", true, "cuda", List.of(1, 0), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", true, "cuda", List.of(), 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", true, "cuda", List.of(1), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new E2eBench.Options("polyv-7b", true, "cuda", List.of(1), 1, 0));
    }

    @Test
    void e2ePromptIsOneImageOf256MergedTokensAnd37TextTokens() {
        PolyVConfig c = ModelConfigs.polyv7b();
        VisionInput.GridThw g = E2eBench.imageGrid(448);
        assertEquals(new VisionInput.GridThw(1, 32, 32), g);
        assertEquals(256, g.mergedTokens(c.vision().spatialMergeSize()));
        assertThrows(IllegalArgumentException.class, () -> E2eBench.imageGrid(450));
        int[] ids = E2eBench.prompt(c, 256, 37, 2);
        assertEquals(37 + 256 + 2, ids.length);
        assertEquals(151652, ids[18]);                                     // <|vision_start|> after 18 text tokens
        assertEquals(151653, ids[18 + 257]);                               // <|vision_end|>
        int pads = 0, text = 0;
        for (int id : ids) {
            if (id == 151655) pads++;
            else if (id < 151642) text++;
        }
        assertEquals(256, pads);
        assertEquals(37, text);
        assertArrayEquals(ids, E2eBench.prompt(c, 256, 37, 2));            // seeded
    }

    @Test
    void decodeBytesAreTheActiveDecoderWeightsWithOneEmbeddingRowAndLmHead() {
        PolyVConfig c = ModelConfigs.polyv7b();
        ModelConfigs.ParameterCounts p = ModelConfigs.count(c);
        // 8,496,520,704 active - the embedding table + one row of it + lm_head, in BF16
        double expected = 2.0 * (8_496_520_704L - 152064L * 3584 + 3584 + 152064L * 3584);
        assertEquals(expected, E2eBench.bytesPerDecodeToken(c, p, 2), 0);
        assertEquals(2 * expected, E2eBench.bytesPerDecodeToken(c, p, 4), 0);
        // batch 8: 7 more embedding rows; of each of the 7 MoE layers' 4 experts (3 x 3584 x 18944 values each),
        // 1 - (1/2)^8 = 255/256 of all 4 instead of 2
        long expert = 3L * 3584 * 18944;
        double expected8 = expected + 2.0 * (7 * 3584 + 7 * expert * (4 * 255 / 256.0 - 2));
        assertEquals(expected8, E2eBench.bytesPerDecodeStep(c, p, 2, 8), 1);
        assertEquals(expected, E2eBench.bytesPerDecodeStep(c, p, 2, 1), 1e-3);
    }
}

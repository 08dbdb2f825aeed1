package ai.polyv.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.loader.safetensors.DType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Benchmark plumbing: medians, run counting, roofline arithmetic, rotation, floors, JSON shape. No timing is asserted. */
class BenchPlumbingTest {
    /** copy 20 GB/s, FMA 200 GFLOP/s (all threads). */
    private static final Ceilings C = new Ceilings(2, 512, 100, 200, 20, 25, 256L << 20);

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3.0, Timing.median(new double[] {1, 3, 10}));
        assertEquals(2.5, Timing.median(new double[] {1, 2, 3, 100}));
        assertEquals(7.0, Timing.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> Timing.median(new double[] {3, 1}));
        assertThrows(IllegalArgumentException.class, () -> Timing.median(new double[0]));
    }

    @Test
    void statsSortBeforeTakingTheMedian() {
        Timing.Stats s = Timing.Stats.of(new double[] {9, 1, 5, 3, 7});
        assertEquals(new Timing.Stats(5, 5, 1, 9), s);
        assertEquals(0.005, s.medianSeconds(), 1e-15);
    }

    @Test
    void runDoesWarmupThenMinRunsWhenTheBudgetIsZero() {
        int[] calls = new int[1];
        int[] lastIndex = {-1};
        Timing.Stats s = Timing.run(new Timing.Plan(3, 0, 4, 10, 0), i -> {
            calls[0]++;
            lastIndex[0] = i;
        });
        assertEquals(4, s.runs());
        assertEquals(7, calls[0]);
        assertEquals(6, lastIndex[0]);     // indexes count warm-up runs too (input rotation continues)
    }

    @Test
    void planRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Timing.Plan(-1, 0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing.Plan(0, 0, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing.Plan(0, 0, 5, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> new Timing.Plan(0, Double.NaN, 1, 1, 0));
    }

    @Test
    void rooflineArithmetic() {
        assertEquals(4.0, Roofline.gbPerSecond(2e9, 0.5), 1e-12);
        assertEquals(300.0, Roofline.gflopPerSecond(3e11, 1.0), 1e-9);
        // 2 GB in 0.5 s = 4 GB/s of 20 -> 0.2; 50 GFLOP in 0.5 s = 100 of 200 -> 0.5
        assertEquals(0.2, Roofline.fraction(Bound.MEMORY, 2e9, 5e10, 0.5, C), 1e-12);
        assertEquals(0.5, Roofline.fraction(Bound.COMPUTE, 2e9, 5e10, 0.5, C), 1e-12);
        // floors: 2 GB / 20 GB/s = 0.1 s; 50 GFLOP / 200 = 0.25 s
        assertEquals(0.1, C.memoryFloorSeconds(2e9), 1e-12);
        assertEquals(0.25, C.computeFloorSeconds(5e10), 1e-12);
        assertEquals(0.25, Roofline.floorSeconds(2e9, 5e10, C), 1e-12);
        assertEquals(10.0, Roofline.maxTokensPerSecond(2e9, C), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Roofline.gbPerSecond(1, 0));
        assertThrows(IllegalArgumentException.class, () -> Roofline.maxTokensPerSecond(0, C));
    }

    @Test
    void ceilingsRejectNonPositiveRates() {
        assertThrows(IllegalArgumentException.class, () -> new Ceilings(2, 512, 100, 200, 0, 25, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> new Ceilings(0, 512, 100, 200, 20, 25, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> new Ceilings(2, 512, Double.NaN, 200, 20, 25, 1 << 20));
        assertEquals(20.0, C.ceilingOf(Bound.MEMORY));
        assertEquals(200.0, C.ceilingOf(Bound.COMPUTE));
    }

    @Test
    void bandwidthChunksTileTheArrayExactly() {
        for (long bytes : new long[] {1L << 20, 256L << 20, (1L << 20) + 64 * 7}) {
            assertEquals(0, Ceilings.chunkStart(bytes, 0));
            assertEquals(bytes, Ceilings.chunkStart(bytes, 64));
            for (int c = 0; c < 64; c++) {
                long lo = Ceilings.chunkStart(bytes, c), hi = Ceilings.chunkStart(bytes, c + 1);
                assertTrue(lo <= hi, "chunk " + c);
                assertEquals(0, lo % 64, "chunk " + c + " start aligned");
            }
        }
    }

    @Test
    void rotationCoversTheTargetWithinBounds() {
        // 3584x3584 BF16 GEMV set = 25,718,784 bytes -> 21 sets cover 512 MiB
        assertEquals(21, Inputs.rotation(3584L * 3584 * 2 + 4 * 3584 * 2, 512L << 20, 64));
        assertEquals(64, Inputs.rotation(1000, 512L << 20, 64));
        assertEquals(1, Inputs.rotation(1L << 40, 512L << 20, 64));
        assertEquals(2, Inputs.rotation(100, 101, 64));
        assertThrows(IllegalArgumentException.class, () -> Inputs.rotation(0, 1, 1));
    }

    @Test
    void inputsAreDeterministicAndInRange() {
        try (Arena a = Arena.ofConfined()) {
            float[] x = new Inputs(a, 7).random(DType.F32, 0.5f, 1000).toFloatArray();
            float[] y = new Inputs(a, 7).random(DType.F32, 0.5f, 1000).toFloatArray();
            assertArrayEquals(x, y);
            for (float v : x) assertTrue(v >= -0.5f && v < 0.5f, "value " + v);
            float[] b = new Inputs(a, 7).random(DType.BF16, 0.5f, 1000).toFloatArray();
            for (int i = 0; i < b.length; i++) {
                assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(x[i]) & 0xFFFF0000), b[i]);   // truncated to bf16
            }
            assertArrayEquals(new float[] {1f, 1f, 1f}, new Inputs(a, 1).filled(DType.BF16, 1f, 3).toFloatArray());
            assertArrayEquals(new float[] {-2.5f, -2.5f}, new Inputs(a, 1).filled(DType.F32, -2.5f, 2).toFloatArray());
            int[] ids = new Inputs(a, 3).ids(10_000, 7);
            for (int id : ids) assertTrue(id >= 0 && id < 7);
        }
    }

    @Test
    void moeShapeFloorsAtTheRealShape() {
        MoeBench.Shape s = new MoeBench.Shape(3584, 18944, 4, 2, DType.BF16);
        assertEquals(3L * 3584 * 18944 * 2, s.expertBytes());                     // 407,371,776 bytes per expert
        assertEquals(2.0 * 256 * 2 * 3 * 3584 * 18944, s.expertFlops(256));       // 208.6 GFLOP
        // 1 token: 2 experts read (memory floor 2 * 0.407 GB / 20 GB/s = 40.7 ms) beats the 0.8 GFLOP compute floor
        assertEquals(2 * 407_371_776 / 20e9 * 3, MoeBench.predictSeconds(s, 1, C, 3), 1e-12);
        // 256 tokens: compute floor 208.6 GFLOP / 200 = 1.043 s
        assertEquals(s.expertFlops(256) / 200e9, MoeBench.predictSeconds(s, 256, C, 1), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new MoeBench.Shape(3584, 18944, 4, 5, DType.BF16));
        assertThrows(IllegalArgumentException.class, () -> new MoeBench.Shape(3584, 18944, 0, 1, DType.BF16));
        assertThrows(IllegalArgumentException.class, () -> new MoeBench.Shape(3584, 18944, 4, 2, DType.F16));
    }

    @Test
    void decodeBytesPerTokenCountsTopKExpertsAndOneEmbeddingRow() {
        var dims = ai.polyv.core.model.PolyVModel.dimsOf(RandomWeights.midConfig());   // vocab 32768, 4 experts top-2
        Map<String, Long> bytes = new LinkedHashMap<>();
        bytes.put("model.embed_tokens.weight", 32768L * 1024 * 2);   // one row: 2048 bytes
        bytes.put("model.layers.0.self_attn.q_proj.weight", 1000L);
        bytes.put("model.layers.3.mlp.experts.0.up_proj.weight", 400L);  // top-2 of 4: half
        bytes.put("model.layers.3.mlp.experts.1.up_proj.weight", 400L);
        bytes.put("lm_head.weight", 5000L);
        bytes.put("visual.blocks.0.attn.qkv.weight", 1_000_000L);    // not read by text decode
        bytes.put("synergy_heads.temporal.fc1.weight", 1_000_000L);
        assertEquals(2048 + 1000 + 200 + 200 + 5000, DecodeBench.weightBytesPerToken(bytes, dims), 1e-9);
        // K and V, 8 layers, 4 kv heads x 64, f32: 2 * 8 * 256 * 4 bytes per cached token
        assertEquals(2.0 * 8 * 100 * 256 * 4, DecodeBench.kvBytes(dims, 100), 1e-9);
        // a batch of 8: 8 embedding rows; uniformly routed top-2 of 4 touches 1 - (1/2)^8 = 255/256 of the experts
        assertEquals(8 * 2048 + 1000 + 2 * 400 * 255 / 256.0 + 5000, DecodeBench.weightBytesPerStep(bytes, dims, 8), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> DecodeBench.weightBytesPerStep(bytes, dims, 0));
    }

    @Test
    void decodeFlopsCountProjectionsTopKExpertsLmHeadAndAttention() {
        var config = RandomWeights.midConfig();
        var dims = ai.polyv.core.model.PolyVModel.dimsOf(config);
        var t = dims.text();
        int h = t.hidden(), q = t.heads() * t.headDim(), kv = t.kvHeads() * t.headDim(), f = config.text().intermediateSize();
        int moe = dims.moe().layers().length, e = dims.moe().numExperts(), k = dims.moe().topK();
        double perLayerAttn = 2.0 * h * (q + 2 * kv) + 2.0 * q * h + 4.0 * 100 * q;
        double expected = t.layers() * perLayerAttn + (t.layers() - moe) * 6.0 * h * f + moe * (2.0 * h * e + k * 6.0 * h * f) + 2.0 * h * t.vocab();
        assertEquals(expected, DecodeBench.flopsPerToken(dims, f, 100), 1e-6);
        assertTrue(expected > 2.0 * h * t.vocab(), "lm_head alone is a lower bound");
    }

    @Test
    void promptIdsStayBelowTheLimitAndArgmaxRespectsIt() {
        int[] p = DecodeBench.prompt(500, 1988);
        for (int id : p) assertTrue(id >= 0 && id < 1988);
        int[] p1 = DecodeBench.prompt(500, 1988, 1);
        for (int id : p1) assertTrue(id >= 0 && id < 1988);
        assertFalse(java.util.Arrays.equals(p, p1), "each sequence of a batch gets its own prompt");
        assertEquals(2, DecodeBench.argmax(new float[] {0, 1, 5, 9}, 3));
    }

    @Test
    void randomWeightsHoldEveryTensorOfTheConfigWithNormsOne() {
        var config = RandomWeights.midConfig();
        try (RandomWeights w = new RandomWeights(config, DType.BF16, 5)) {
            assertEquals(ai.polyv.core.demo.DemoWeights.tensors(config).size(), w.byteSizes().size());
            var norm = w.get("model.norm.weight");
            assertEquals(DType.BF16, norm.dtype());
            assertEquals(1f, new ai.polyv.core.tensor.Tensor(norm.dtype(), norm.data(), norm.shape()).getFloat(1023));
            assertEquals(32768L * 1024 * 2, w.byteSizes().get("model.embed_tokens.weight"));
            assertThrows(IllegalArgumentException.class, () -> w.get("nope"));
        }
    }

    @Test
    void midConfigHasTheBriefsShape() {
        var t = RandomWeights.midConfig().text();
        assertEquals(List.of(1024, 8, 16, 4, 64, 2816, 32768),
                List.of(t.hiddenSize(), t.numLayers(), t.numHeads(), t.numKvHeads(), t.headDim(), t.intermediateSize(), t.vocabSize()));
        assertArrayEquals(new int[] {3, 7}, RandomWeights.midConfig().moe().layers());
    }

    @Test
    void opsReportJsonHasTheDocumentedFields(@TempDir Path dir) throws Exception {
        OpCase.Info info = new OpCase.Info("gemv.bf16.2x2", "matmul", "matmul", "x[1,2] . w[2,2]^T", Bound.MEMORY, 4e9, 1e9);
        OpsBench.Result r = OpsBench.Result.of(info, 3, Timing.Stats.of(new double[] {400, 500, 600}), C);
        assertEquals(8.0, r.gbPerSecond(), 1e-12);                  // 4 GB in 0.5 s
        assertEquals(0.4, r.fraction(), 1e-12);                      // of 20 GB/s
        assertEquals("GB/s", r.unit());
        MachineInfo m = new MachineInfo("cpu", 2, "jvm", "2026-01-01T00:00:00Z", 0.5);
        OpsBench.Report report = new OpsBench.Report("ops", m, C, true, List.of(r), C, 1.0);
        Path file = dir.resolve("sub/ops.json");
        BenchJson.write(file, report);
        JsonNode root = new ObjectMapper().readTree(Files.readString(file));
        assertEquals("ops", root.get("benchmark").asText());
        assertEquals(20.0, root.at("/ceilings/copyGBs").asDouble());
        assertEquals("gemv.bf16.2x2", root.at("/results/0/name").asText());
        assertEquals(500.0, root.at("/results/0/stats/medianMs").asDouble());
        assertEquals(0.4, root.at("/results/0/fraction").asDouble(), 1e-12);
        assertEquals("MEMORY", root.at("/results/0/bound").asText());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());             // no temp file left beside it
        }
    }

    /** The case table pinned: names in table order, bytes and flops of one run (what the roofline and the JSON report use). */
    @Test
    void caseTableKeepsItsNamesBytesAndFlops() {
        Map<String, double[]> expected = new LinkedHashMap<>();
        String[] rows = {
                "gemv.bf16.3584x3584 25718784 25690112",
                "gemv.bf16.18944x3584 135880704 135790592",
                "gemv.bf16.3584x18944 135880704 135790592",
                "gemv.f32.3584x3584 51408896 25690112",
                "gemv.f32.18944x3584 271671296 135790592",
                "gemv.bf16.2816x1024 5782528 5767168",
                "gemv.bf16.151680x1024 311251456 310640640",
                "gemm.bf16.n8.3584x3584 25919488 205520896",
                "gemm.bf16.n64.3584x3584 27525120 1644167168",
                "gemm.bf16.n256.3584x3584 33030144 6576668672",
                "gemm.bf16.n512.3584x3584 40370176 13153337344",
                "gemm.f32.n256.3584x3584 58720256 6576668672",
                "gemm.bf16.n256.18944x3584 158859264 34762391552",
                "matmul.router.n256.4x3584 3702784 7340032",
                "rmsNorm.64x3584 1849344 917504",
                "rmsNorm.1x3584 43008 14336",
                "siluMul.64x18944 14548992 4849664",
                "gelu.256x5120 10485760 0",
                "add.64x3584 2752512 229376",
                "copy.8x512 32768 0",
                "embedding.bf16.64of32768x3584 1376256 0",
                "gatherRows.512of256x3584 14680064 0",
                "scatterAddScaled.512to256x3584 22020096 3670016",
                "permutation.4096x2of4 131072 0",
                "rope.256x28x128 7602176 2752512",
                "attentionCausal.decode.ctx1024 4222976 14680064",
                "attentionCausal.prefill.n256 8388608 471597056",
                "attentionSegments.window.16x64 20971520 335544320",
                "attentionSegments.full.1x1024 20971520 5368709120",
                "softmaxTopK.4096x4.k2 131072 0",
        };
        for (String row : rows) {
            String[] f = row.split(" ");
            expected.put(f[0], new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2])});
        }
        assertEquals(List.copyOf(expected.keySet()), CpuOpCases.names());
        expected.forEach((name, bf) -> {
            OpCase.Info info = CpuOpCases.info(name);
            assertEquals(name, info.name());
            assertArrayEquals(bf, new double[] {info.bytes(), info.flops()}, name);
        });
        assertEquals("routing", CpuOpCases.info("matmul.router.n256.4x3584").family());
        assertEquals("matmul", CpuOpCases.info("matmul.router.n256.4x3584").op());
        assertEquals(Bound.COMPUTE, CpuOpCases.info("attentionCausal.prefill.n256").bound());
        assertEquals(Bound.MEMORY, CpuOpCases.info("attentionCausal.decode.ctx1024").bound());
    }

    @Test
    void smallCasesRunAndRotate() {
        try (CpuBackend be = new CpuBackend(2); OpCase c = CpuOpCases.create("permutation.4096x2of4", be, 0)) {
            assertEquals(16, c.sets());
            assertTrue(Double.isFinite(c.run(0)) && Double.isFinite(c.run(17)));
        }
        try (CpuBackend be = new CpuBackend(2); OpCase c = CpuOpCases.create("rmsNorm.1x3584", be, 3 * 8 * 3584)) {
            assertEquals(3, c.sets());
            assertEquals(Bound.MEMORY, c.info().bound());
            assertEquals(8.0 * 3584 + 4 * 3584, c.info().bytes());
        }
        assertThrows(IllegalArgumentException.class, () -> CpuOpCases.create("nope", null, 0));
        assertThrows(IllegalArgumentException.class, () -> CpuOpCases.names("nope"));
    }

    @Test
    void tableAlignsColumns() {
        String s = new Table("op", "shape", "ms").row("a", "b", "1.5").row("long-op", "s", "10.25").render();
        assertEquals("""
                op       shape  ms
                -------  -----  -----
                a        b        1.5
                long-op  s      10.25
                """, s);
    }

    @Test
    void moeBenchTimesTheFusedLayerAsALastStageThroughTheGivenClock() {
        int[] marks = new int[7];
        MoeBench.StageClock wall = MoeBench.StageClock.wall();
        MoeBench.StageClock counting = new MoeBench.StageClock() {
            @Override
            public void mark(int i) {
                marks[i]++;
                wall.mark(i);
            }

            @Override
            public double ms(int a, int b) {
                return wall.ms(a, b);
            }
        };
        MoeBench.Shape s = new MoeBench.Shape(16, 32, 4, 2, DType.F32);
        try (CpuBackend be = new CpuBackend(1)) {
            MoeBench.Report r = MoeBench.run(be, C, s, new int[] {8}, 1, System.err, counting, true);
            List<String> names = r.points().getFirst().stages().stream().map(MoeBench.Stage::stage).toList();
            assertEquals(List.of("router", "permute", "experts", "combine", "layer", MoeBench.FUSED), names);
            int runs = r.points().getFirst().stages().getLast().stats().runs();
            assertTrue(runs >= 1 && marks[0] >= runs && marks[5] == marks[0] && marks[6] == marks[0], java.util.Arrays.toString(marks));
            assertEquals(8 / r.points().getFirst().stages().get(4).stats().medianSeconds(), r.points().getFirst().tokensPerSecond(), 1e-6);
        }
    }
}

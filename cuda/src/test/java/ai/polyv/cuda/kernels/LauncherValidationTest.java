package ai.polyv.cuda.kernels;

import static ai.polyv.loader.safetensors.DType.BF16;
import static ai.polyv.loader.safetensors.DType.F32;
import static ai.polyv.loader.safetensors.DType.I32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.safetensors.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import jcuda.driver.CUdeviceptr;

/** The launchers' checks run before any CUDA call, so they are tested here without a GPU. */
class LauncherValidationTest {

    static DeviceTensor dt(String name, DType type, long... shape) {
        return DeviceTensor.of(name, new CUdeviceptr(), type, shape);
    }

    static void fails(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) assertTrue(ex.getMessage().contains(f), () -> "message '" + ex.getMessage() + "' lacks '" + f + "'");
    }

    // ---- router: real PolyV shape (Qwen2.5-VL-7B hidden 3584, 4 experts, top-2)
    static MoeRouterKernel.Plan router(DeviceTensor x, DeviceTensor gate, int k, int partialRows) {
        int tokens = (int) x.dim(0), m = (int) gate.dim(0);
        return MoeRouterKernel.plan(x, gate, dt("logits", F32, tokens, m), dt("ids", I32, tokens, k), dt("w", F32, tokens, k),
                dt("partials", F32, partialRows, 2, m), dt("counter", I32, 1), dt("stats", F32, 2, m), k, false);
    }

    @Test
    void routerPlansTheRealShape() {
        MoeRouterKernel.Plan p = router(dt("x", BF16, 4096, 3584), dt("gate", BF16, 4, 3584), 2, MoeRouterKernel.maxPartialBlocks());
        assertEquals("moe_router_v2_xbf16_m8", p.kernel());
        assertEquals(264, p.blocks());            // 4096 tokens / 8 warps = 512 blocks, capped by the table
        MoeRouterKernel.Plan one = router(dt("x", F32, 1, 3584), dt("gate", BF16, 16, 3584), 3, 1);
        assertEquals("moe_router_v2_xf32_m64", one.kernel());
        assertEquals(1, one.blocks());
    }

    @Test
    void routerRejectsBadArguments() {
        fails(() -> router(dt("x", BF16, 8, 3584), dt("gate", BF16, 4, 3584), 5, 1), "k=5 not in [1, 4]");
        fails(() -> router(dt("x", BF16, 8, 3584), dt("gate", BF16, 4, 3584), 0, 1), "k=0");
        fails(() -> router(dt("x", BF16, 8, 3580), dt("gate", BF16, 4, 3580), 2, 1), "multiple of 8");
        fails(() -> router(dt("x", BF16, 8, 3584), dt("gate", BF16, 4, 3576), 2, 1), "gate", "3584 columns");
        fails(() -> router(dt("x", BF16, 8, 64), dt("gate", BF16, 65, 64), 2, 1), "65 not in [1, 64]");
        fails(() -> router(dt("x", BF16, 8, 64), dt("gate", F32, 4, 64), 2, 1), "gate F32[4, 64] must be BF16");
        fails(() -> router(dt("x", I32, 8, 64), dt("gate", BF16, 4, 64), 2, 1), "x I32[8, 64] must be one of [BF16, F32]");
        fails(() -> router(dt("x", BF16, 0, 64), dt("gate", BF16, 4, 64), 2, 1), "no token rows");
        fails(() -> router(dt("x", BF16, 4096, 64), dt("gate", BF16, 4, 64), 2, 10), "partials", ">= 264");
        DeviceTensor strided = new DeviceTensor("x", new CUdeviceptr(), BF16, new long[] {8, 64}, 128, 0);
        fails(() -> router(strided, dt("gate", BF16, 4, 64), 2, 1), "contiguous");
        DeviceTensor misaligned = new DeviceTensor("x", new CUdeviceptr(), BF16, new long[] {8, 64}, 64, 8);
        fails(() -> router(misaligned, dt("gate", BF16, 4, 64), 2, 1), "16-byte aligned");
        fails(() -> MoeRouterKernel.plan(dt("x", BF16, 8, 64), dt("gate", BF16, 4, 64), null, dt("ids", I32, 8, 3),
                dt("w", F32, 8, 2), dt("p", F32, 1, 2, 4), dt("c", I32, 1), dt("s", F32, 2, 4), 2, false), "ids", "[8, 2]");
    }

    // ---- token permutation
    @Test
    void permutationPlansAndRejects() {
        TokenPermutationKernel.AlignPlan a = TokenPermutationKernel.planAlign(dt("ids", I32, 4096, 2), dt("w", F32, 4096, 2),
                dt("offsets", I32, 5), dt("permToken", I32, 8192), dt("permWeight", F32, 8192), dt("pos", I32, 4096, 2),
                dt("bad", I32, 1), 4);
        assertEquals(8192, a.entries());
        fails(() -> TokenPermutationKernel.planAlign(dt("ids", I32, 4, 2), dt("w", F32, 4, 2), dt("offsets", I32, 4),
                dt("permToken", I32, 8), dt("permWeight", F32, 8), dt("pos", I32, 4, 2), dt("bad", I32, 1), 4), "offsets", "[5]");
        fails(() -> TokenPermutationKernel.planAlign(dt("ids", I32, 4, 3), dt("w", F32, 4, 3), dt("offsets", I32, 3),
                dt("permToken", I32, 12), dt("permWeight", F32, 12), dt("pos", I32, 4, 3), dt("bad", I32, 1), 2), "k=3 exceeds");
        TokenPermutationKernel.RowsPlan r = TokenPermutationKernel.planPermuteRows(dt("x", BF16, 7, 3584), dt("permToken", I32, 14),
                dt("xPerm", BF16, 14, 3584));
        assertEquals(7168, r.rowBytes());
        fails(() -> TokenPermutationKernel.planPermuteRows(dt("x", BF16, 7, 36), dt("pt", I32, 14), dt("xp", BF16, 14, 36)),
                "72 bytes, must be a multiple of 16");
        fails(() -> TokenPermutationKernel.planPermuteRows(dt("x", BF16, 7, 64), dt("pt", I32, 14), dt("xp", F32, 14, 64)), "must be BF16");
        TokenPermutationKernel.CombinePlan c = TokenPermutationKernel.planCombine(dt("y", F32, 14, 3584), dt("pos", I32, 7, 2), null,
                dt("out", BF16, 7, 3584));
        assertEquals("moe_combine_v2_f32_to_bf16", c.kernel());
        assertEquals(256, c.threads());
        fails(() -> TokenPermutationKernel.planCombine(dt("y", F32, 13, 64), dt("pos", I32, 7, 2), null, dt("out", F32, 7, 64)),
                "tokens*k = 14 rows");
        fails(() -> TokenPermutationKernel.planCombine(dt("y", F32, 14, 66), dt("pos", I32, 7, 2), null, dt("out", F32, 7, 66)),
                "multiple of 4");
    }

    // ---- experts: real shapes hidden 3584, ffn 18944, 4 experts
    @Test
    void expertFfnPicksGemvForDecodeAndMmaForPrefill() {
        DeviceTensor gw = dt("gate_w", BF16, 4, 18944, 3584), uw = dt("up_w", BF16, 4, 18944, 3584), dw = dt("down_w", BF16, 4, 3584, 18944);
        ExpertFfnKernel.Plan decode = ExpertFfnKernel.planGateUp(dt("x", BF16, 1, 3584), dt("permToken", I32, 2), gw, uw,
                dt("offsets", I32, 5), dt("h", BF16, 2, 18944), null);
        assertEquals(ExpertFfnKernel.Path.GEMV, decode.path());
        assertEquals("expert_gate_up_gemv_v2", decode.kernel());
        assertEquals(18944 / 8, decode.gridX());
        assertEquals(4, decode.gridY());
        ExpertFfnKernel.Plan prefill = ExpertFfnKernel.planGateUp(dt("x", BF16, 4096, 3584), dt("permToken", I32, 8192), gw, uw,
                dt("offsets", I32, 5), dt("h", BF16, 8192, 18944), null);
        assertEquals("expert_gate_up_mma_v2", prefill.kernel());
        assertEquals(8192 / 128 + 4, prefill.gridX());
        assertEquals(18944 / 64, prefill.gridY());
        ExpertFfnKernel.Plan down = ExpertFfnKernel.planDown(dt("h", BF16, 8192, 18944), dw, dt("offsets", I32, 5),
                dt("permWeight", F32, 8192), dt("y", F32, 8192, 3584), null);
        assertEquals("expert_down_mma_v2", down.kernel());
        assertEquals(3584 / 128, down.gridY());
        assertEquals(18944, down.k());
        ExpertFfnKernel.Plan forced = ExpertFfnKernel.planDown(dt("h", BF16, 2, 18944), dw, dt("offsets", I32, 5), null,
                dt("y", F32, 2, 3584), ExpertFfnKernel.Path.MMA);
        assertEquals("expert_down_mma_v2", forced.kernel());
    }

    @Test
    void expertFfnRejectsBadArguments() {
        DeviceTensor gw = dt("gate_w", BF16, 4, 64, 32), uw = dt("up_w", BF16, 4, 64, 32);
        fails(() -> ExpertFfnKernel.planGateUp(dt("x", BF16, 3, 32), null, gw, uw, dt("offsets", I32, 5), dt("h", BF16, 6, 64), null),
                "one row per entry (6)");
        fails(() -> ExpertFfnKernel.planGateUp(dt("x", BF16, 3, 32), dt("rows", I32, 6), gw, dt("up_w", BF16, 4, 64, 40),
                dt("offsets", I32, 5), dt("h", BF16, 6, 64), null), "up_w", "[4, 64, 32]");
        fails(() -> ExpertFfnKernel.planGateUp(dt("x", BF16, 3, 36), dt("rows", I32, 6), dt("g", BF16, 4, 64, 36),
                dt("u", BF16, 4, 64, 36), dt("offsets", I32, 5), dt("h", BF16, 6, 64), null), "reduction width 36");
        fails(() -> ExpertFfnKernel.planGateUp(dt("x", BF16, 3, 32), dt("rows", I32, 6), dt("g", BF16, 4, 63, 32),
                dt("u", BF16, 4, 63, 32), dt("offsets", I32, 5), dt("h", BF16, 6, 63), null), "output width 63 must be even");
        fails(() -> ExpertFfnKernel.planGateUp(dt("x", F32, 3, 32), dt("rows", I32, 6), gw, uw, dt("offsets", I32, 5),
                dt("h", BF16, 6, 64), null), "x F32[3, 32] must be BF16");
        fails(() -> ExpertFfnKernel.planDown(dt("h", BF16, 6, 64), dt("d", BF16, 4, 32, 64), dt("offsets", I32, 5),
                dt("scale", F32, 5), dt("y", F32, 6, 32), null), "scale", "[6]");
        fails(() -> ExpertFfnKernel.checkOffsets(new int[] {0, 3, 2, 6}, 3, 6), "non-decreasing", "offsets[2]=2 < offsets[1]=3");
        fails(() -> ExpertFfnKernel.checkOffsets(new int[] {1, 3, 6}, 2, 6), "offsets[0] is 1");
        fails(() -> ExpertFfnKernel.checkOffsets(new int[] {0, 3, 5}, 2, 6), "end at 5, expected 6");
        fails(() -> ExpertFfnKernel.checkOffsets(new int[] {0, 6}, 2, 6), "2 values, expected 3");
        ExpertFfnKernel.checkOffsets(new int[] {0, 0, 6, 6}, 3, 6); // empty experts are fine
    }

    // ---- window attention: real ViT shape (Qwen2.5-VL vision: 16 heads x 80)
    @Test
    void windowAttentionPlansWindowsAndFullFrames() {
        int tokens = 5184, width = 16 * 80;
        int[] cu = new int[5184 / 64 + 1];
        for (int s = 0; s < cu.length; s++) cu[s] = s * 64;
        WindowAttentionKernel.Plan p = WindowAttentionKernel.plan(dt("q", BF16, tokens, width), dt("k", BF16, tokens, width),
                dt("v", BF16, tokens, width), cu, dt("cu", I32, cu.length), 16, dt("out", BF16, tokens, width), false);
        assertEquals("window_attention_v2_hd80_bf16_to_bf16", p.kernel());
        assertEquals(1, p.gridX());
        assertEquals(81, p.numSeqs());
        assertEquals(1 / Math.sqrt(80), p.scale(), 1e-7);
        int[] frames = {0, 2592, 5184};
        WindowAttentionKernel.Plan f = WindowAttentionKernel.plan(dt("q", BF16, tokens, width), dt("k", BF16, tokens, width),
                dt("v", BF16, tokens, width), frames, dt("cu", I32, 3), 16, dt("out", F32, tokens, width), false);
        assertEquals("window_attention_v2_hd80_bf16_to_f32", f.kernel());
        assertEquals((2592 + 63) / 64, f.gridX());
        WindowAttentionKernel.Plan ref = WindowAttentionKernel.plan(dt("q", F32, 10, 96), dt("k", F32, 10, 96), dt("v", F32, 10, 96),
                new int[] {0, 3, 3, 10}, dt("cu", I32, 4), 2, dt("out", F32, 10, 96), true);
        assertEquals("window_attention_v1_f32_to_f32", ref.kernel());
        assertEquals(48, ref.headDim());
    }

    @Test
    void windowAttentionRejectsBadArguments() {
        DeviceTensor q = dt("q", BF16, 10, 160), k = dt("k", BF16, 10, 160), v = dt("v", BF16, 10, 160), out = dt("out", BF16, 10, 160);
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 6, 4, 10}, dt("cu", I32, 4), 2, out, false),
                "non-decreasing", "cu_seqlens[2]=4 < cu_seqlens[1]=6");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 4, 9}, dt("cu", I32, 3), 2, out, false), "ends at 9, expected tokens = 10");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {1, 10}, dt("cu", I32, 2), 2, out, false), "cu_seqlens[0] is 1");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 10}, dt("cu", I32, 3), 2, out, false), "cu", "[2]");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 10}, dt("cu", I32, 2), 5, out, false), "head_dim 32 not supported", "[64, 80, 128]");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 10}, dt("cu", I32, 2), 3, out, false), "not a multiple of heads 3");
        fails(() -> WindowAttentionKernel.plan(q, dt("k", BF16, 9, 160), v, new int[] {0, 10}, dt("cu", I32, 2), 2, out, false), "k", "[10, 160]");
        fails(() -> WindowAttentionKernel.plan(dt("q", F32, 10, 160), dt("k", F32, 10, 160), dt("v", F32, 10, 160), new int[] {0, 10},
                dt("cu", I32, 2), 2, out, false), "q F32[10, 160] must be BF16");
        fails(() -> WindowAttentionKernel.plan(q, k, v, new int[] {0, 10}, dt("cu", I32, 2), 2, out, true), "out", "must be F32");
    }

    /** The Java dtype codes are the ones the kernels compare against (polyv_common.cuh, as bundled in the kernels jar). */
    @Test
    void dtypeCodesMatchTheKernelHeader() throws IOException {
        String header;
        try (InputStream in = LauncherValidationTest.class.getResourceAsStream("/ai/polyv/kernels/src/polyv_common.cuh")) {
            assertTrue(in != null, "polyv_common.cuh is bundled");
            header = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Integer> cuh = new TreeMap<>();
        Matcher m = Pattern.compile("constexpr int DT_(\\w+) = (\\d+);").matcher(header);
        while (m.find()) cuh.put(m.group(1), Integer.parseInt(m.group(2)));
        assertEquals(Map.of("F32", 0, "BF16", 1, "F16", 2), cuh);
        cuh.forEach((name, code) -> assertEquals(code, KernelDTypes.code(DType.valueOf(name)), name));
        fails(() -> KernelDTypes.code(I32), "I32 has no kernel dtype code");
        for (DType t : DType.values()) {
            if (cuh.containsKey(t.name())) assertEquals(cuh.get(t.name()), KernelDTypes.code(t), t.name());
            else fails(() -> KernelDTypes.code(t), t + " has no kernel dtype code");
        }
        assertEquals(4, I32.byteSize());
    }

    @Test
    void launchTablesPickTheFirstRowThatFits() {
        assertEquals(ExpertFfnKernel.Path.GEMV, ExpertFfnKernel.TABLE.pick(16).path());
        assertEquals(ExpertFfnKernel.Path.MMA, ExpertFfnKernel.TABLE.pick(17).path());
        assertThrows(IllegalArgumentException.class, () -> new LaunchTable<>("t", List.of(new LaunchTable.Row<>(10, 1))));
        assertThrows(IllegalArgumentException.class, () -> new LaunchTable<>("t",
                List.of(new LaunchTable.Row<>(10, 1), new LaunchTable.Row<>(5, 2), new LaunchTable.Row<>(Long.MAX_VALUE, 3))));
    }
}

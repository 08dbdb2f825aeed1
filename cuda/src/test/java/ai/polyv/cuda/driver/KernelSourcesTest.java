package ai.polyv.cuda.driver;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The kernels jar holds a source for every op of the CUDA backend (and an nvcc fatbin for each, or
 * none at all); NVRTC compiles every bundled source for sm_80 and sm_90a without any CUDA header.
 * The NVRTC part needs libnvrtc (no GPU): it is skipped with a message where the library is absent
 * (set POLYV_CUDA_LIB_DIR to a folder with libnvrtc.so.13 to run it).
 */
class KernelSourcesTest {

    @Test
    void everyOpHasABundledSourceAndItsHeaders() {
        for (String op : KernelSources.OPS) {
            String src = KernelSources.source(op);
            assertNotNull(src, op + ".cu is not in the kernels jar");
            assertTrue(src.contains("extern \"C\" __global__"), op + ".cu has no extern \"C\" kernel");
            Map<String, String> headers = KernelSources.headers(op, src);
            assertTrue(headers.containsKey("polyv_common.cuh"), op + " headers: " + headers.keySet());
        }
        Map<String, String> att = KernelSources.headers("attention_causal", KernelSources.source("attention_causal"));
        assertEquals(List.of("attention_rows.cuh", "polyv_common.cuh"), List.copyOf(att.keySet()), "transitive includes, in order");
    }

    @Test
    void fatbinsAreThereForAllOpsOrForNone() {
        long present = KernelSources.OPS.stream().filter(op -> KernelSources.fatbin(op) != null).count();
        assertTrue(present == 0 || present == KernelSources.OPS.size(), present + " of " + KernelSources.OPS.size() + " fatbins in the jar");
        for (String op : KernelSources.OPS) {
            byte[] fb = KernelSources.fatbin(op);
            if (fb == null) continue;
            int magic = ByteBuffer.wrap(fb).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            assertEquals(0xBA55ED50, magic, op + ".fatbin does not start with the fatbin magic");
        }
    }

    private static Nvrtc nvrtcOrSkip() {
        try {
            return Nvrtc.load();
        } catch (CudaUnavailableException e) {
            assumeTrue(false, "NVRTC not available, skipping: " + e.getMessage());
            throw e;
        }
    }

    @Test
    void nvrtcCompilesEveryKernelForAmpereAndHopper() {
        Nvrtc nvrtc = nvrtcOrSkip();
        assertTrue(nvrtc.version().matches("1[2-9]\\.\\d+"), nvrtc.version());
        for (String arch : List.of("sm_80", "sm_90a")) {
            for (String op : KernelSources.OPS) {
                Nvrtc.Output out = KernelSources.compile(nvrtc, op, arch, true);
                byte[] elf = out.image();
                assertTrue(elf.length > 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F', op + " for " + arch + ": not an ELF cubin");
                assertEquals("", out.log(), op + " for " + arch + " compiled with messages");
            }
        }
        Nvrtc.Output ptx = KernelSources.compile(nvrtc, "rms_norm", "sm_90", false);
        String text = new String(ptx.image(), java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(text.contains(".entry rms_norm_f32") && text.contains(".target sm_90"), "PTX for compute_90");
    }

    /**
     * The four PolyV kernels include {@code <cuda_bf16.h>}, {@code <stdint.h>} and (window attention)
     * {@code <math.h>} and use {@code INFINITY}: NVRTC has no host headers, so this is what proves that the
     * fallback (a kernels jar built without nvcc) still loads them. Every kernel entry point of each
     * source must be in the cubin.
     */
    @Test
    void nvrtcCompilesThePolyVKernelsForAmpereAndHopper() {
        Nvrtc nvrtc = nvrtcOrSkip();
        for (String arch : List.of("sm_80", "sm_90a")) {
            for (String op : KernelSources.POLYV_OPS) {
                String src = KernelSources.source(op);
                assertNotNull(src, op + ".cu is not in the kernels jar");
                Nvrtc.Output out;
                try {
                    out = KernelSources.compile(nvrtc, op, arch, true);
                } catch (CudaException e) {
                    throw new AssertionError("NVRTC " + nvrtc.version() + " rejects " + op + ".cu for " + arch + ": " + e.getMessage(), e);
                }
                byte[] elf = out.image();
                assertTrue(elf.length > 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F', op + " for " + arch + ": not an ELF cubin");
                assertEquals("", out.log(), op + " for " + arch + " compiled with messages");
                String image = new String(elf, java.nio.charset.StandardCharsets.ISO_8859_1);
                List<String> kernels = kernelNames(src);
                assertFalse(kernels.isEmpty(), op + ".cu declares no extern \"C\" __global__ kernel");
                for (String k : kernels) assertTrue(image.contains(k), op + " for " + arch + ": kernel " + k + " is not in the cubin");
            }
        }
    }

    /**
     * The {@code extern "C" __global__} entry points of a source: plain definitions (an optional
     * {@code __launch_bounds__(...)} before the name) and the instances of a {@code POLYV_*} macro whose
     * first argument is the kernel name (moe_router's and window_attention's v2 variants).
     */
    static List<String> kernelNames(String src) {
        List<String> names = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "extern \"C\" __global__ void\\s+(?:__launch_bounds__\\((?:[^()]|\\([^()]*\\))*\\)[\\s\\\\]*)?(\\w+)\\s*\\(").matcher(src);
        while (m.find()) if (!m.group(1).equals(m.group(1).toUpperCase(java.util.Locale.ROOT))) names.add(m.group(1));   // NAME: a macro parameter
        java.util.regex.Matcher inst = java.util.regex.Pattern.compile("(?m)^POLYV_\\w+\\(\\s*(\\w+)\\s*,").matcher(src);
        while (inst.find()) names.add(inst.group(1));
        return names;
    }

    /**
     * Runs without NVRTC: no bundled source includes a host C header outside polyv_std.cuh (NVRTC has none and
     * stops at the include), and the only toolkit header the PolyV kernels need is cuda_bf16.h (found
     * through {@link KernelSources#cudaIncludeDir}).
     */
    @Test
    void noKernelIncludesAHostHeaderThatNvrtcLacks() {
        java.util.regex.Pattern angle = java.util.regex.Pattern.compile("(?m)^\\s*#\\s*include\\s+<([^>]+)>");
        List<String> all = new java.util.ArrayList<>(KernelSources.OPS);
        all.addAll(KernelSources.POLYV_OPS);
        for (String op : all) {
            String src = KernelSources.source(op);
            assertNotNull(src, op + ".cu is not in the kernels jar");
            Map<String, String> texts = new java.util.LinkedHashMap<>(KernelSources.headers(op, src));
            texts.put(op + ".cu", src);
            texts.forEach((name, text) -> {
                if (name.equals("polyv_std.cuh")) return;
                java.util.regex.Matcher m = angle.matcher(text);
                while (m.find()) assertEquals("cuda_bf16.h", m.group(1), name + " (of " + op + ") includes <" + m.group(1)
                        + ">: NVRTC has no host headers; include \"polyv_std.cuh\" for stdint/math names");
            });
            boolean needsToolkit = KernelSources.POLYV_OPS.contains(op);
            assertEquals(needsToolkit ? "cuda_bf16.h" : null, KernelSources.toolkitInclude(src, KernelSources.headers(op, src)), op);
        }
    }

    @Test
    void thePolyVKernelNamesAreFoundInTheirSources() {
        assertTrue(kernelNames(KernelSources.source("moe_router")).containsAll(List.of("moe_router_v2_xbf16_m8", "moe_router_v1_xf32", "moe_router_stats_v1")));
        assertTrue(kernelNames(KernelSources.source("expert_ffn")).containsAll(List.of("expert_gate_up_mma_v2", "expert_down_v1")));
        assertTrue(kernelNames(KernelSources.source("token_permutation")).containsAll(List.of("moe_align_v2", "moe_permute_rows_v2")));
    }

    @Test
    void aCompileErrorCarriesTheLog() {
        Nvrtc nvrtc = nvrtcOrSkip();
        CudaException e = assertThrows(CudaException.class, () -> nvrtc.compile("broken.cu",
                "extern \"C\" __global__ void k(float* x) {\n  x[0] = undefined_name;\n}\n", Map.of(), List.of("--gpu-architecture=sm_80"), true));
        assertEquals(6, e.code());   // NVRTC_ERROR_COMPILATION
        assertTrue(e.getMessage().contains("NVRTC_ERROR_COMPILATION"), e.getMessage());
        assertTrue(e.getMessage().contains("broken.cu(2)") && e.getMessage().contains("undefined_name"), e.getMessage());
    }
}

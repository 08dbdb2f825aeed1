package ai.polyv.cuda.driver;


import static org.junit.jupiter.api.Assertions.assertEquals;
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

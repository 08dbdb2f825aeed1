package ai.polyv.cuda.driver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels shipped in the polyv-kernels jar: {@code ai/polyv/kernels/<op>.fatbin} (built by nvcc
 * when it was present at build time) and the sources {@code ai/polyv/kernels/src/<op>.cu} with their
 * {@code .cuh} headers (always bundled, compiled by NVRTC when no fatbin is there).
 */
public final class KernelSources {
    private static final String ROOT = "/ai/polyv/kernels/";
    private static final Pattern INCLUDE = Pattern.compile("^\\s*#\\s*include\\s+\"([^\"]+)\"", Pattern.MULTILINE);

    /** The ops of the CUDA backend's own kernels (one {@code <op>.cu} each). */
    public static final List<String> OPS = List.of("add", "argmax", "attention_causal", "attention_segments", "bias_add",
            "convert", "copy_rows", "embedding", "gelu", "rms_norm", "rope", "scatter_add_scaled", "silu_mul", "softmax_topk");

    private KernelSources() {}

    /** The four PolyV kernels (fused MoE stages and the vision window attention), one {@code <op>.cu} each. */
    public static final List<String> POLYV_OPS = List.of("moe_router", "token_permutation", "expert_ffn", "window_attention");

    /**
     * The nvcc-built fatbin of {@code op}, or null when there is none: first {@code <dir>/<op>.fatbin} for
     * the folder in system property {@code polyv.cuda.dir} or environment variable {@code POLYV_CUDA_DIR}
     * (a kernel build outside the jar), then the jar's {@code ai/polyv/kernels/<op>.fatbin}.
     */
    public static byte[] fatbin(String op) {
        String dir = System.getProperty("polyv.cuda.dir", System.getenv("POLYV_CUDA_DIR"));
        if (dir != null) {
            java.nio.file.Path p = java.nio.file.Path.of(dir, op + ".fatbin");
            if (java.nio.file.Files.isRegularFile(p)) {
                try {
                    return java.nio.file.Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new UncheckedIOException("reading kernel binary " + p, e);
                }
            }
        }
        return resource(ROOT + op + ".fatbin");
    }

    /** The CUDA C source of {@code op}, or null. */
    public static String source(String op) {
        byte[] b = resource(ROOT + "src/" + op + ".cu");
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Every header {@code source} includes with quotes, transitively: include name -> text. */
    public static Map<String, String> headers(String op, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        collect(op, source, out);
        return out;
    }

    private static void collect(String from, String text, Map<String, String> out) {
        Matcher m = INCLUDE.matcher(text);
        while (m.find()) {
            String name = m.group(1);
            if (out.containsKey(name)) continue;
            byte[] b = resource(ROOT + "src/" + name);
            if (b == null) throw new IllegalStateException(from + " includes \"" + name + "\", which is not bundled in the kernels jar");
            String h = new String(b, StandardCharsets.UTF_8);
            out.put(name, h);
            collect(name, h, out);
        }
    }

    /**
     * Compiles {@code op}'s bundled source with NVRTC for {@code arch} (e.g. {@code sm_90a}): a cubin
     * for that architecture, or PTX for {@code compute_XX} when {@code cubin} is false.
     */
    public static Nvrtc.Output compile(Nvrtc nvrtc, String op, String arch, boolean cubin) {
        String src = source(op);
        if (src == null) throw new IllegalStateException("kernel source " + op + ".cu is not bundled in the kernels jar");
        String target = cubin ? arch : arch.replace("sm_", "compute_");
        return nvrtc.compile(op + ".cu", src, headers(op, src),
                List.of("--gpu-architecture=" + target, "--std=c++17"), cubin);
    }

    private static byte[] resource(String path) {
        try (InputStream in = KernelSources.class.getResourceAsStream(path)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path + " from the kernels jar", e);
        }
    }
}

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
        Map<String, String> headers = headers(op, src);
        List<String> options = new java.util.ArrayList<>(List.of("--gpu-architecture=" + target, "--std=c++17"));
        String toolkitHeader = toolkitInclude(src, headers);
        if (toolkitHeader != null) {
            java.nio.file.Path inc = cudaIncludeDir(nvrtc.from());
            if (inc == null) {
                throw new CudaUnavailableException("CUDA kernels are unavailable: " + op + ".cu includes <" + toolkitHeader
                        + ">, and NVRTC needs the CUDA toolkit's include folder for it; none found (set POLYV_CUDA_INCLUDE or CUDA_HOME;"
                        + " looked in " + String.join(", ", includeCandidates(nvrtc.from()).stream().map(Object::toString).toList()) + ")");
            }
            options.add("--include-path=" + inc);
        }
        return nvrtc.compile(op + ".cu", src, headers, options, cubin);
    }

    private static final Pattern ANGLE_INCLUDE = Pattern.compile("^\\s*#\\s*include\\s+<([^>]+)>", Pattern.MULTILINE);

    /**
     * The first {@code #include <...>} of the source and its bundled headers that NVRTC cannot resolve by
     * itself (a CUDA toolkit header such as {@code cuda_bf16.h}), or null. Host C headers are fenced off
     * with {@code __CUDACC_RTC__} in polyv_std.cuh and are not counted.
     */
    static String toolkitInclude(String source, Map<String, String> headers) {
        List<String> texts = new java.util.ArrayList<>(List.of(source));
        headers.forEach((name, text) -> { if (!name.equals("polyv_std.cuh")) texts.add(text); });
        for (String t : texts) {
            Matcher m = ANGLE_INCLUDE.matcher(t);
            if (m.find()) return m.group(1);
        }
        return null;
    }

    /**
     * The CUDA toolkit's include folder (the one holding {@code cuda_bf16.h}) for NVRTC, or null: system
     * property {@code polyv.cuda.include}, environment variable {@code POLYV_CUDA_INCLUDE},
     * {@code $CUDA_HOME/include}, {@code /usr/local/cuda/include} (and its {@code targets/x86_64-linux}
     * twin), then {@code ../include} beside the loaded NVRTC library (the layout of NVIDIA's pip wheels).
     */
    static java.nio.file.Path cudaIncludeDir(String nvrtcFrom) {
        for (java.nio.file.Path p : includeCandidates(nvrtcFrom)) {
            if (java.nio.file.Files.isRegularFile(p.resolve("cuda_bf16.h"))) return p;
        }
        return null;
    }

    private static List<java.nio.file.Path> includeCandidates(String nvrtcFrom) {
        List<java.nio.file.Path> c = new java.util.ArrayList<>();
        String prop = System.getProperty("polyv.cuda.include", System.getenv("POLYV_CUDA_INCLUDE"));
        if (prop != null && !prop.isBlank()) c.add(java.nio.file.Path.of(prop));
        String home = System.getenv("CUDA_HOME");
        if (home != null && !home.isBlank()) c.add(java.nio.file.Path.of(home, "include"));
        c.add(java.nio.file.Path.of("/usr/local/cuda/include"));
        c.add(java.nio.file.Path.of("/usr/local/cuda/targets/x86_64-linux/include"));
        if (nvrtcFrom != null && nvrtcFrom.contains("/")) {
            java.nio.file.Path lib = java.nio.file.Path.of(nvrtcFrom).toAbsolutePath().getParent();
            if (lib != null && lib.getParent() != null) c.add(lib.getParent().resolve("include"));
        }
        return c;
    }

    private static byte[] resource(String path) {
        try (InputStream in = KernelSources.class.getResourceAsStream(path)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path + " from the kernels jar", e);
        }
    }
}

package ai.polyv.cli;

import ai.polyv.loader.config.ConfigException;
import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.VisionConfig;
import ai.polyv.loader.inspect.ConfigCheck;
import ai.polyv.loader.inspect.ParameterGroup;
import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.layout.ModelFamily;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.SafetensorsException;
import ai.polyv.loader.safetensors.SafetensorsFile;
import ai.polyv.loader.safetensors.TensorView;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code polyv inspect PATH}: tensors, parameter counts, config summary and validation verdict.
 *
 * <p>PATH is a {@code .safetensors} file, a {@code model.safetensors.index.json} or a checkpoint folder. The
 * file/index is validated on open ({@link Checkpoint#open}). When a config is available (PATH is a folder or an
 * index or a {@code model.safetensors} with a {@code config.json} beside it, or {@code --config FILE}) the checkpoint is also checked against
 * it ({@link ConfigCheck}): every tensor the config requires must be present with the expected shape.
 * Exit 0 when valid; 2 with one error line on stderr otherwise (the report on stdout still lists what was read).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List a checkpoint's tensors, parameter counts and config; validate it (exit 2 if invalid).")
public final class InspectCommand implements Callable<Integer> {
    /** Above this many tensors the default table groups names that differ only in layer/expert indexes. */
    static final int COMPACT_THRESHOLD = 60;
    private static final Pattern INDEX = Pattern.compile("\\.(layers|blocks|experts)\\.\\d+(?=\\.)");
    private static final int MAX_PROBLEMS_SHOWN = 20;

    @Parameters(index = "0", paramLabel = "PATH", description = "a .safetensors file, an index .json or a checkpoint folder")
    Path path;

    @Option(names = "--all", description = "list every tensor (default: group layers/experts when there are more than "
            + COMPACT_THRESHOLD + ")")
    boolean all;

    @Option(names = "--json", description = "print one machine-readable JSON object instead of tables")
    boolean json;

    @Option(names = "--config", paramLabel = "FILE",
            description = "config.json to check against (default: config.json beside the checkpoint, "
                    + "when PATH is a folder, an index or model.safetensors)")
    Path configPath;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Report r = inspect();
            if (json) {
                out.println(toJson(r));
            } else {
                printText(r, out);
            }
            out.flush();
            if (!r.valid()) {
                err.println("polyv inspect: " + r.verdictLine());
                err.flush();
                return 2;
            }
            return 0;
        } catch (SafetensorsException | ConfigException e) {
            if (json) {
                ObjectNode o = MAPPER.createObjectNode();
                o.put("path", path.toString());
                o.put("valid", false);
                o.putArray("problems").add(e.getMessage());
                out.println(o.toPrettyString());
                out.flush();
            }
            err.println("polyv inspect: INVALID: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One tensor row. */
    record Row(String name, String dtype, long[] shape, long numel, long bytes, String file) {}

    /** A group of rows that differ only in numeric path components ({@code layers.*}, {@code experts.*}). */
    record Group(String pattern, String dtype, long[] shape, int count, long numel, long bytes) {}

    /** Everything inspect found. */
    record Report(Path path, List<String> files, long fileBytes, List<Row> rows,
                  Map<ParameterGroup, Long> params, long totalParams, PolyVConfig config, Path configFile,
                  ConfigCheck check, HubNaming naming, String family) {
        boolean valid() {
            return check == null || check.ok();
        }

        String verdictLine() {
            if (check == null) {
                return "VALID (file checks; no config.json to check tensors against)";
            }
            if (check.ok()) {
                return "VALID (file checks; all " + check.expected() + " tensors config.json requires are present with "
                        + "the expected shapes)";
            }
            return String.format(Locale.ROOT, "INVALID: %d problem%s against %s: %s", check.problems().size(),
                    check.problems().size() == 1 ? "" : "s", configFile, String.join("; ",
                            check.problems().subList(0, Math.min(3, check.problems().size())))
                            + (check.problems().size() > 3 ? "; ..." : ""));
        }
    }

    Report inspect() {
        Path cfgFile = configPath;
        if (cfgFile == null) {
            String file = path.getFileName() == null ? "" : path.getFileName().toString();
            Path dir = Files.isDirectory(path) ? path
                    : file.endsWith(".json") || file.equals(Checkpoint.SINGLE_NAME) ? path.toAbsolutePath().getParent()
                    : null;
            if (dir != null && Files.isRegularFile(dir.resolve(PolyVConfig.FILE_NAME))) {
                cfgFile = dir.resolve(PolyVConfig.FILE_NAME);
            }
        }
        PolyVConfig config = cfgFile == null ? null : PolyVConfig.load(cfgFile);
        try (Checkpoint ckpt = Checkpoint.open(path)) {
            HubNaming naming = HubNaming.detect(ckpt.names(), "checkpoint " + path);
            List<Row> rows = new ArrayList<>();
            Map<ParameterGroup, Long> params = new EnumMap<>(ParameterGroup.class);
            long total = 0;
            for (String name : ckpt.names()) {
                TensorView t = ckpt.tensor(name);
                rows.add(new Row(name, t.dtype().name(), t.shape(), t.numel(), t.byteSize(),
                        ckpt.fileOf(name).path().getFileName().toString()));
                params.merge(ParameterGroup.of(naming.canonical(name)), t.numel(), Long::sum);
                total += t.numel();
            }
            rows.sort(Comparator.comparing(Row::name, InspectCommand::naturalCompare));
            List<String> files = new ArrayList<>();
            long fileBytes = 0;
            for (SafetensorsFile f : ckpt.files()) {
                files.add(f.path().getFileName().toString());
                fileBytes += f.fileSize();
            }
            ConfigCheck check = config == null ? null : ConfigCheck.of(ckpt, config);
            return new Report(path, files, fileBytes, rows, params, total, config, cfgFile, check, naming,
                    config == null ? null : familyOf(config));
        }
    }

    /** The model family config.json names, or what is wrong with its {@code architectures}. */
    private static String familyOf(PolyVConfig config) {
        try {
            ModelFamily f = ModelFamily.of(config);
            f.check(config);
            return f.name() + " (" + f.architectures().getFirst() + ")";
        } catch (ConfigException e) {
            return "none polyv runs: " + e.getMessage();
        }
    }

    // ---------------------------------------------------------------- text output

    private void printText(Report r, PrintWriter out) {
        out.printf(Locale.ROOT, "%s: %d tensor%s in %d file%s, %.2f MiB%n", r.path(), r.rows().size(),
                r.rows().size() == 1 ? "" : "s", r.files().size(), r.files().size() == 1 ? "" : "s", mib(r.fileBytes()));
        out.println("naming: " + r.naming().description());
        out.println();
        boolean compact = !all && r.rows().size() > COMPACT_THRESHOLD;
        if (compact) {
            List<Group> groups = group(r.rows());
            int w = Math.max(6, groups.stream().mapToInt(g -> g.pattern().length()).max().orElse(0));
            out.printf(Locale.ROOT, "%-" + w + "s  %-5s  %-22s  %5s  %10s%n", "tensor", "dtype", "shape", "count", "MiB");
            for (Group g : groups) {
                out.printf(Locale.ROOT, "%-" + w + "s  %-5s  %-22s  %5d  %10.3f%n", g.pattern(), g.dtype(),
                        Arrays.toString(g.shape()), g.count(), mib(g.bytes()));
            }
            out.printf(Locale.ROOT, "(%d tensors in %d groups; * stands for a layer/block/expert index; --all lists every tensor)%n",
                    r.rows().size(), groups.size());
        } else {
            int w = Math.max(6, r.rows().stream().mapToInt(x -> x.name().length()).max().orElse(0));
            out.printf(Locale.ROOT, "%-" + w + "s  %-5s  %-22s  %10s%n", "tensor", "dtype", "shape", "MiB");
            for (Row x : r.rows()) {
                out.printf(Locale.ROOT, "%-" + w + "s  %-5s  %-22s  %10.3f%n", x.name(), x.dtype(),
                        Arrays.toString(x.shape()), mib(x.bytes()));
            }
        }
        out.println();
        out.println("parameters:");
        for (Map.Entry<ParameterGroup, Long> e : r.params().entrySet()) {
            out.printf(Locale.ROOT, "  %-14s %,16d  %7s%n", e.getKey().label(), e.getValue(),
                    ParameterGroup.human(e.getValue()));
        }
        out.printf(Locale.ROOT, "  %-14s %,16d  %7s%n", "total", r.totalParams(), ParameterGroup.human(r.totalParams()));
        if (r.config() != null && r.config().isMoe()) {
            long active = activeParams(r);
            out.printf(Locale.ROOT, "  %-14s %,16d  %7s  (experts counted top_k/num_experts)%n", "active/token", active,
                    ParameterGroup.human(active));
        }
        out.println();
        if (r.config() != null) {
            out.println("config (" + r.configFile() + "):");
            out.printf(Locale.ROOT, "  %-14s %s%n", "family", r.family());
            for (Map.Entry<String, String> e : configSummary(r.config()).entrySet()) {
                out.printf(Locale.ROOT, "  %-14s %s%n", e.getKey(), e.getValue());
            }
            out.println();
        }
        if (r.check() != null && !r.check().unexpected().isEmpty()) {
            List<String> u = r.check().unexpected();
            out.printf(Locale.ROOT, "note: %d tensor%s not used by config.json: %s%n", u.size(), u.size() == 1 ? "" : "s",
                    String.join(", ", u.subList(0, Math.min(5, u.size()))) + (u.size() > 5 ? ", ..." : ""));
        }
        if (r.check() != null && !r.check().ok()) {
            List<String> p = r.check().problems();
            out.println("problems:");
            for (String s : p.subList(0, Math.min(MAX_PROBLEMS_SHOWN, p.size()))) {
                out.println("  " + s);
            }
            if (p.size() > MAX_PROBLEMS_SHOWN) {
                out.println("  ... and " + (p.size() - MAX_PROBLEMS_SHOWN) + " more");
            }
        }
        out.println("verdict: " + r.verdictLine());
    }

    /** Total minus the experts a token does not use: experts * top_k / num_experts. */
    private static long activeParams(Report r) {
        MoeConfig m = r.config().moe();
        long experts = r.params().getOrDefault(ParameterGroup.MOE_EXPERTS, 0L);
        return r.totalParams() - experts + experts * m.topK() / m.numExperts();
    }

    static Map<String, String> configSummary(PolyVConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        TextConfig t = c.text();
        VisionConfig v = c.vision();
        m.put("decoder", String.format(Locale.ROOT, "%d layers, hidden %d, intermediate %d, %d heads (head_dim %d), %d KV heads",
                t.numLayers(), t.hiddenSize(), t.intermediateSize(), t.numHeads(), t.headDim(), t.numKvHeads()));
        m.put("vocab", t.vocabSize() + (t.tieWordEmbeddings() ? " (tied lm_head)" : ""));
        m.put("rope", "theta " + t.ropeTheta() + ", mrope_section " + Arrays.toString(t.mropeSection()));
        m.put("vision", String.format(Locale.ROOT, "%d blocks, hidden %d, intermediate %d, %d heads, patch %d, merge %d, "
                        + "full attention at %s", v.depth(), v.hiddenSize(), v.intermediateSize(), v.numHeads(), v.patchSize(),
                v.spatialMergeSize(), Arrays.toString(v.fullattBlockIndexes())));
        MoeConfig moe = c.moe();
        m.put("moe", moe == null ? "none (dense)" : String.format(Locale.ROOT, "%d MoE layer%s %s, %d experts, top-%d%s",
                moe.layers().length, moe.layers().length == 1 ? "" : "s", Arrays.toString(moe.layers()), moe.numExperts(), moe.topK(),
                moe.normTopkProb() ? ", renormalised" : ""));
        m.put("synergy", c.synergy() == null ? "none" : String.format(Locale.ROOT,
                "token %d, temporal head %d->%d, spatial head %d->%d", c.synergy().tokenId(),
                c.synergy().temporal().hiddenSize(), c.synergy().temporal().outSize(),
                c.synergy().spatial().hiddenSize(), c.synergy().spatial().outSize()));
        m.put("position_3d", c.position3d() == null ? "none" : c.position3d().encoding() + ", base "
                + c.position3d().base() + ", merge " + c.position3d().mergePixels() + " px");
        if (c.torchDtype() != null) {
            m.put("torch_dtype", c.torchDtype());
        }
        return m;
    }

    /** Rows grouped by name with every numeric path component replaced by {@code *}, dtype and shape. */
    static List<Group> group(List<Row> rows) {
        Map<String, Group> groups = new LinkedHashMap<>();
        for (Row x : rows) {
            String pattern = INDEX.matcher(x.name()).replaceAll(".$1.*");
            String key = pattern + " " + x.dtype() + " " + Arrays.toString(x.shape());
            groups.merge(key, new Group(pattern, x.dtype(), x.shape(), 1, x.numel(), x.bytes()),
                    (a, b) -> new Group(a.pattern(), a.dtype(), a.shape(), a.count() + 1, a.numel() + b.numel(),
                            a.bytes() + b.bytes()));
        }
        List<Group> out = new ArrayList<>(groups.values());
        out.sort(Comparator.comparing(Group::pattern).thenComparing(g -> Arrays.toString(g.shape())));
        return out;
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    /** Orders names with embedded numbers numerically ({@code layers.2} before {@code layers.10}). */
    static int naturalCompare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i;
                int sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
                String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                int c = na.length() != nb.length() ? Integer.compare(na.length(), nb.length()) : na.compareTo(nb);
                if (c != 0) {
                    return c;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);
    }

    // ---------------------------------------------------------------- JSON output

    private static String toJson(Report r) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("path", r.path().toString());
        o.put("valid", r.valid());
        o.put("verdict", r.verdictLine());
        o.put("naming", r.naming() == HubNaming.ORIGINAL ? "original" : "transformers-5");
        ArrayNode files = o.putArray("files");
        r.files().forEach(files::add);
        o.put("file_bytes", r.fileBytes());
        ObjectNode params = o.putObject("parameters");
        for (Map.Entry<ParameterGroup, Long> e : r.params().entrySet()) {
            params.put(e.getKey().label(), e.getValue());
        }
        params.put("total", r.totalParams());
        params.put("total_human", ParameterGroup.human(r.totalParams()));
        if (r.config() != null && r.config().isMoe()) {
            params.put("active_per_token", activeParams(r));
        }
        if (r.config() != null) {
            ObjectNode c = o.putObject("config");
            TextConfig t = r.config().text();
            c.put("file", r.configFile().toString());
            c.put("family", r.family());
            c.put("num_hidden_layers", t.numLayers());
            c.put("hidden_size", t.hiddenSize());
            c.put("intermediate_size", t.intermediateSize());
            c.put("num_attention_heads", t.numHeads());
            c.put("num_key_value_heads", t.numKvHeads());
            c.put("head_dim", t.headDim());
            c.put("vocab_size", t.vocabSize());
            c.put("tie_word_embeddings", t.tieWordEmbeddings());
            c.put("vision_depth", r.config().vision().depth());
            c.put("vision_hidden_size", r.config().vision().hiddenSize());
            MoeConfig m = r.config().moe();
            if (m != null) {
                ObjectNode mo = c.putObject("moe");
                ArrayNode layers = mo.putArray("layers");
                for (int l : m.layers()) {
                    layers.add(l);
                }
                mo.put("num_experts", m.numExperts());
                mo.put("top_k", m.topK());
            } else {
                c.putNull("moe");
            }
            c.put("synergy", r.config().synergy() != null);
            c.put("position_3d", r.config().position3d() != null);
            ArrayNode problems = o.putArray("problems");
            r.check().problems().forEach(problems::add);
            ArrayNode unexpected = o.putArray("unused_tensors");
            r.check().unexpected().forEach(unexpected::add);
        } else {
            o.putNull("config");
            o.putArray("problems");
        }
        ArrayNode tensors = o.putArray("tensors");
        for (Row x : r.rows()) {
            ObjectNode t = tensors.addObject();
            t.put("name", x.name());
            t.put("dtype", x.dtype());
            ArrayNode shape = t.putArray("shape");
            for (long d : x.shape()) {
                shape.add(d);
            }
            t.put("bytes", x.bytes());
            t.put("file", x.file());
        }
        return o.toPrettyString();
    }
}

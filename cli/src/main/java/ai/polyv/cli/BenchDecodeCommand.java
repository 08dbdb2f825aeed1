package ai.polyv.cli;

import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.bench.BenchJson;
import ai.polyv.bench.Ceilings;
import ai.polyv.bench.DecodeBench;
import ai.polyv.bench.RandomWeights;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.loader.safetensors.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code polyv bench decode}: prefill and decode tokens/s against the memory roofline. */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Prefill and greedy decode tokens/s on the CPU at each decode batch size, against the step's roofline: "
                + "max(memory floor = weight + KV bytes per step / measured copy bandwidth, compute floor = FLOPs per step / "
                + "measured FMA peak). Default: tiny-a (golden folder) and the mid-size random BF16 config.")
final class BenchDecodeCommand implements Callable<Integer> {

    static final class Which {
        @Option(names = "--model", paramLabel = "DIR", description = "a checkpoint folder (config.json + safetensors)")
        Path model;

        @Option(names = "--config", paramLabel = "NAME", description = "tiny-a (the golden folder) or mid (random BF16 weights in memory)")
        String config;
    }

    @ArgGroup(exclusive = true)
    Which which;

    @Option(names = "--tokens", defaultValue = "64", description = "decode steps timed (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--prompt", defaultValue = "128", description = "prompt tokens prefilled (default: ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--batch", split = ",", paramLabel = "B", defaultValue = "1,8",
            description = "decode batch sizes, comma-separated: B sequences step together, the weights read once per step "
                    + "(default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--shared", paramLabel = "DIR", description = "the shared folder holding golden/tiny-a (default: -Dpolyv.shared, else ../shared)")
    Path shared;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
    Path json;

    @Override
    public Integer call() {
        if (tokens < 1) throw new IllegalArgumentException("--tokens must be >= 1, got " + tokens);
        if (prompt < 1) throw new IllegalArgumentException("--prompt must be >= 1, got " + prompt);
        for (int b : batches) if (b < 1) throw new IllegalArgumentException("--batch: every size must be >= 1, got " + b);
        List<String> runs = new ArrayList<>();
        if (which == null) {
            runs.add("tiny-a");
            runs.add("mid");
        } else if (which.config != null) {
            if (!which.config.equals("tiny-a") && !which.config.equals("mid")) {
                throw new IllegalArgumentException("--config must be tiny-a or mid, got '" + which.config + "'");
            }
            runs.add(which.config);
        } else {
            runs.add("dir");
        }
        // path errors before the ceilings are measured
        if (which != null && which.model != null) PathChecks.directory("model folder", which.model);
        Path tinyA = runs.contains("tiny-a") ? tinyA() : null;
        List<DecodeBench.Report> reports = new ArrayList<>();
        try (CpuBackend be = new CpuBackend()) {
            System.err.println("measuring ceilings...");
            Ceilings c = Ceilings.measure(be.threads(), false);
            System.err.println(c.describe());
            for (String run : runs) {
                reports.addAll(switch (run) {
                    case "mid" -> mid(be, c);
                    case "tiny-a" -> checkpoint("tiny-a", tinyA, be, c);
                    default -> checkpoint(which.model.toString(), which.model, be, c);
                });
            }
            System.out.println(c.describe());
            System.out.print(DecodeBench.table(reports));
        }
        if (json != null) {
            BenchJson.write(json, DecodeBench.Reports.of(reports));
            System.err.println("wrote " + json);
        }
        return 0;
    }

    private Path tinyA() {
        return tinyADir(shared, "--shared DIR or --model DIR");
    }

    /**
     * The golden tiny-a folder under {@code shared} (default: -Dpolyv.shared, else ../shared); when absent, a clear
     * error that suggests the command's {@code options}.
     */
    static Path tinyADir(Path shared, String options) {
        Path base = shared != null ? PathChecks.directory("--shared", shared) : Path.of(System.getProperty("polyv.shared", "../shared"));
        Path dir = base.resolve("golden").resolve("tiny-a");
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("tiny-a: no folder " + dir.toAbsolutePath() + " (pass " + options + ")");
        }
        return dir;
    }

    /** How the benchmark tables name {@link RandomWeights#midConfig()}. */
    static final String MID_LABEL = "mid (1024x8, 2 MoE of 4, BF16)";

    private List<DecodeBench.Report> checkpoint(String label, Path dir, CpuBackend be, Ceilings c) {
        Map<String, Long> bytes = new LinkedHashMap<>();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            for (String n : ckpt.names()) bytes.put(n, ckpt.tensor(n).byteSize());
        }
        try (PolyVModel model = PolyVModel.load(dir, be)) {
            return DecodeBench.run(label, model, bytes, c, prompt, tokens, 3, batches, System.err);
        }
    }

    private List<DecodeBench.Report> mid(CpuBackend be, Ceilings c) {
        System.err.println("decode mid: making random BF16 weights ...");
        var config = RandomWeights.midConfig();
        try (RandomWeights w = new RandomWeights(config, DType.BF16, 0x31D);
             PolyVModel model = PolyVModel.of(config, w, be)) {
            return DecodeBench.run(MID_LABEL, model, w.byteSizes(), c, prompt, tokens, 3, batches, System.err);
        }
    }
}

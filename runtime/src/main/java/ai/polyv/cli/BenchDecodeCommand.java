package ai.polyv.cli;

import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.runtime.backend.CpuBackend;
import ai.polyv.runtime.bench.BenchJson;
import ai.polyv.runtime.bench.Ceilings;
import ai.polyv.runtime.bench.DecodeBench;
import ai.polyv.runtime.bench.RandomWeights;
import ai.polyv.runtime.model.PolyVModel;
import ai.polyv.runtime.tensor.DType;
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
        description = "Prefill and greedy decode tokens/s on the CPU against the memory roofline (weight + KV bytes per token / "
                + "measured copy bandwidth). Default: tiny-a (golden folder) and the mid-size random BF16 config.")
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

    @Option(names = "--shared", paramLabel = "DIR", description = "the shared folder holding golden/tiny-a (default: -Dpolyv.shared, else ../shared)")
    Path shared;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the results as JSON")
    Path json;

    @Override
    public Integer call() {
        if (tokens < 1) throw new IllegalArgumentException("--tokens must be >= 1, got " + tokens);
        if (prompt < 1) throw new IllegalArgumentException("--prompt must be >= 1, got " + prompt);
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
                reports.add(switch (run) {
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

    private DecodeBench.Report checkpoint(String label, Path dir, CpuBackend be, Ceilings c) {
        Map<String, Long> bytes = new LinkedHashMap<>();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            for (String n : ckpt.names()) bytes.put(n, ckpt.tensor(n).byteSize());
        }
        try (PolyVModel model = PolyVModel.load(dir, be)) {
            return DecodeBench.run(label, model, bytes, c, prompt, tokens, 3, System.err);
        }
    }

    private DecodeBench.Report mid(CpuBackend be, Ceilings c) {
        System.err.println("decode mid: making random BF16 weights ...");
        var config = RandomWeights.midConfig();
        try (RandomWeights w = new RandomWeights(config, DType.BF16, 0x31D);
             PolyVModel model = PolyVModel.of(config, w, be)) {
            return DecodeBench.run(MID_LABEL, model, w.byteSizes(), c, prompt, tokens, 3, System.err);
        }
    }
}

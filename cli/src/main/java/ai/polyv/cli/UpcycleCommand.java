package ai.polyv.cli;

import ai.polyv.train.upcycle.UpcycleException;
import ai.polyv.train.upcycle.UpcycleOptions;
import ai.polyv.train.upcycle.Upcycler;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code polyv upcycle}: sparse upcycling of a dense Qwen2.5-VL checkpoint into a PolyV MoE checkpoint
 * (see {@link Upcycler} for the exact rule). Prints the plan, writes atomically with a progress bar over
 * bytes, then prints a summary.
 */
@Command(name = "upcycle", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a PolyV MoE checkpoint from a Qwen2.5-VL checkpoint and expert donors (sparse upcycling).",
                "In each --moe-layers layer the dense mlp.{gate,up,down}_proj become mlp.experts.E.*: expert 0 = base FFN,"
                        + " expert i+1 = FFN of the i-th --experts-from donor, experts beyond the donors = base FFN;"
                        + " router mlp.gate.weight [experts, hidden] ~ normal(0, --router-std) from L64X128MixRandom"
                        + " seeded with (--router-seed ^ name.hashCode()). Everything else is copied from the base."})
public final class UpcycleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--base", required = true, paramLabel = "DIR", description = "Dense Qwen2.5-VL checkpoint folder.")
    Path base;

    @Option(names = "--experts-from", split = ",", paramLabel = "DIR",
            description = "Donor checkpoints (same shapes); donor i provides expert i+1.")
    List<Path> donors = List.of();

    @Option(names = "--moe-layers", required = true, split = ",", paramLabel = "L", description = "Decoder layers to upcycle, e.g. 0,4,8.")
    int[] moeLayers;

    @Option(names = "--experts", defaultValue = "4", description = "Experts per MoE layer (default ${DEFAULT-VALUE}).")
    int experts;

    @Option(names = "--top-k", description = "Experts per token (default min(2, experts)).")
    Integer topK;

    @Option(names = "--norm-topk-prob", description = "Renormalise the top-k router weights (paper: off).")
    boolean normTopkProb;

    @Option(names = "--aux-loss-coef", defaultValue = "0.01", description = "Load-balancing loss weight (default ${DEFAULT-VALUE}).")
    double auxLossCoef;

    @Option(names = "--router-seed", defaultValue = "0", description = "Seed of the router (and synergy head) init (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--router-std", defaultValue = "0.02", description = "Router weights ~ normal(0, std) (default ${DEFAULT-VALUE}).")
    double routerStd;

    @Option(names = "--synergy-heads", description = "Add synergy alignment heads (normal(0, --head-std) weights, zero biases).")
    boolean synergyHeads;

    @Option(names = "--synergy-token-id", description = "Synergy token id (default: base config's, else vocab_size-1).")
    Integer synergyTokenId;

    @Option(names = "--synergy-hidden", description = "Heads' fc1 width (default: base config's, else hidden_size).")
    Integer synergyHidden;

    @Option(names = "--synergy-temporal-out", description = "Temporal head output width (default: base config's, else 1024).")
    Integer temporalOut;

    @Option(names = "--synergy-spatial-out", description = "Spatial head output width (default: base config's, else 2048).")
    Integer spatialOut;

    @Option(names = "--head-std", defaultValue = "0.02", description = "Synergy head weights ~ normal(0, std) (default ${DEFAULT-VALUE}).")
    double headStd;

    @Option(names = "--position-3d", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Add the position_3d config object (sincos, base 10000) when the base has none (default on).")
    boolean position3d;

    @Option(names = "--max-shard-size", defaultValue = "5GB", paramLabel = "SIZE",
            description = "Most data per shard: bytes or e.g. 500MB, 5GB, 2GiB (default ${DEFAULT-VALUE}).")
    String maxShardSize;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (written atomically).")
    Path out;

    @Option(names = "--force", description = "Replace an existing --out (only once the new checkpoint is complete).")
    boolean force;

    @Option(names = "--dry-run", description = "Validate and print the plan; write nothing.")
    boolean dryRun;

    @Option(names = "--list-tensors", description = "Print every output tensor with its origin in the plan.")
    boolean listTensors;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        UpcycleOptions.SynergyHeads heads = synergyHeads
                ? new UpcycleOptions.SynergyHeads(synergyTokenId, synergyHidden, temporalOut, spatialOut) : null;
        if (!synergyHeads && (synergyTokenId != null || synergyHidden != null || temporalOut != null || spatialOut != null)) {
            throw new UpcycleException("--synergy-token-id/--synergy-hidden/--synergy-*-out need --synergy-heads");
        }
        UpcycleOptions opts = new UpcycleOptions(base, donors, moeLayers, experts, topK != null ? topK : Math.min(2, experts),
                normTopkProb, auxLossCoef, seed, routerStd, heads, headStd, position3d, parseSize(maxShardSize));
        try (Upcycler u = Upcycler.open(opts)) {
            u.checkOutput(out, force);
            o.print(u.describePlan(listTensors));
            o.println("out      " + out + (dryRun ? " (dry run: nothing written)" : ""));
            o.flush();
            if (dryRun) {
                return 0;
            }
            Upcycler.Summary s;
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("upcycle").setInitialMax(u.totalBytes())
                    .setUnit("MB", 1_000_000).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .showSpeed().continuousUpdate().build()) {
                s = u.write(out, force, bar::stepBy);
            }
            o.printf(Locale.ROOT, "wrote    %s: %d tensors, %,d params, %s in %d shard(s), %.1f s (%.0f MB/s)%n",
                    s.out(), s.tensors(), s.params(), Upcycler.bytes(s.bytes()), s.shards(), s.time().toNanos() / 1e9,
                    s.bytesPerSecond() / 1e6);
            return 0;
        }
    }

    private static final Pattern SIZE = Pattern.compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\\s*");

    /** Bytes from {@code 123}, {@code 500MB} (10^6), {@code 2GiB} (2^30), ... (the hub's convention: GB = 10^9). */
    static long parseSize(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new UpcycleException("--max-shard-size: expected bytes or a size like 500MB, 5GB, 2GiB, got \"" + s + "\"");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        double mult = switch (unit) {
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            default -> 1;
        };
        long bytes = (long) (v * mult);
        if (bytes <= 0) {
            throw new UpcycleException("--max-shard-size must be positive, got \"" + s + "\"");
        }
        return bytes;
    }
}

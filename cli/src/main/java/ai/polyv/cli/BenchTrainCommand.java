package ai.polyv.cli;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.bench.MachineInfo;
import ai.polyv.bench.RandomWeights;
import ai.polyv.bench.Timing;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.PolyVObjective;
import ai.polyv.train.StepLosses;
import ai.polyv.train.TrainExample;
import ai.polyv.train.TrainStage;
import ai.polyv.train.optim.AdamW;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv bench train}: wall time and peak memory of one training step (forward, backward, AdamW) of
 * {@link PolyVObjective} on tiny-a (the golden checkpoint) and on the mid-size random BF16 config, with a
 * text example of {@code --tokens} ids whose second half is labelled.
 *
 * <p>Memory: peak heap is the sum of the heap pools' peak usage over the timed steps (peaks reset after
 * warm-up); peak RSS is the process's high-water mark ({@code VmHWM}), which includes the heap, the
 * off-heap activations, the mapped or generated weights and the JVM itself; "RSS - heap" is RSS peak minus
 * peak heap used: everything that is not Java heap (weights, activations, code cache, metaspace, stacks).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Time and peak memory (heap, RSS) of one training step (forward + backward + AdamW) on tiny-a and the mid-size config.")
final class BenchTrainCommand implements Callable<Integer> {

    @Option(names = "--config", split = ",", defaultValue = "tiny-a,mid", description = "tiny-a and/or mid (default: ${DEFAULT-VALUE})")
    List<String> configs;

    @Option(names = "--tokens", defaultValue = "128", description = "sequence length of the example (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--stage", defaultValue = "2-2", description = "2-1 or 2-2 (default: ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps after 2 warm-up steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--shared", paramLabel = "DIR", description = "the shared folder holding golden/tiny-a (default: -Dpolyv.shared, else ../shared)")
    Path shared;

    @Override
    public Integer call() {
        if (tokens < 2) throw new IllegalArgumentException("--tokens must be >= 2, got " + tokens);
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        TrainStage st = TrainStage.parse(stage);
        List<String> rows = new ArrayList<>();
        try (CpuBackend be = new CpuBackend()) {
            for (String c : configs) {
                switch (c) {
                    case "tiny-a" -> {
                        try (PolyVModel m = PolyVModel.load(BenchDecodeCommand.tinyADir(shared, "--shared DIR"), be)) {
                            rows.add(run("tiny-a", m, st, be.threads().size()));
                        }
                    }
                    case "mid" -> {
                        PolyVConfig cfg = RandomWeights.midConfig();
                        System.err.println("bench train mid: making random BF16 weights ...");
                        try (RandomWeights w = new RandomWeights(cfg, DType.BF16, 0x31D); PolyVModel m = PolyVModel.of(cfg, w, be)) {
                            rows.add(run(BenchDecodeCommand.MID_LABEL, m, st, be.threads().size()));
                        }
                    }
                    default -> throw new IllegalArgumentException("--config must be tiny-a or mid, got '" + c + "'");
                }
            }
        }
        System.out.printf(Locale.ROOT, "%-32s %7s %6s %12s %10s %9s %10s %10s %11s%n", "model", "stage", "tokens", "trained", "median ms",
                "tok/s", "heap MiB", "RSS MiB", "RSS-heap MiB");
        rows.forEach(System.out::println);
        return 0;
    }

    private String run(String label, PolyVModel model, TrainStage st, int threads) {
        int vocab = model.dims().text().vocab();
        SplittableRandom rnd = new SplittableRandom(17);
        int[] ids = new int[tokens], labels = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = rnd.nextInt(Math.min(vocab, 30000));
            labels[i] = i < tokens / 2 ? TrainExample.IGNORE_INDEX : ids[i];
        }
        TrainExample ex = new TrainExample(ids, labels, List.of(), null, null);
        try (PolyVObjective obj = PolyVObjective.create(model, st, PolyVObjective.LossWeights.fromConfig(model.config()), threads,
                PolyVObjective.DEFAULT_HEAD_SEED)) {
            List<Param> params = obj.params();
            long numel = params.stream().mapToLong(Param::numel).sum();
            AdamW adam = new AdamW(params, AdamW.Hyper.torchDefaults(1e-4));
            for (int w = 0; w < 2; w++) step(obj, adam, ex);
            System.gc();
            List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
            long[] nanos = new long[steps];
            for (int s = 0; s < steps; s++) {
                long t0 = System.nanoTime();
                step(obj, adam, ex);
                nanos[s] = System.nanoTime() - t0;
                System.err.printf(Locale.ROOT, "  %s step %d: %.1f ms%n", label, s + 1, nanos[s] / 1e6);
            }
            long heapPeak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            long rss = MachineInfo.peakRssBytes();
            double[] sorted = Arrays.stream(nanos).asDoubleStream().sorted().toArray();
            double med = Timing.median(sorted) / 1e6;
            return String.format(Locale.ROOT, "%-32s %7s %6d %12s %10.1f %9.1f %10.1f %10s %11s", label, st.label(), tokens,
                    String.format(Locale.ROOT, "%,d", numel), med, tokens / (med / 1e3), heapPeak / 1048576.0,
                    rss < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", rss / 1048576.0),
                    rss < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", (rss - heapPeak) / 1048576.0));
        }
    }

    private static void step(PolyVObjective obj, AdamW adam, TrainExample ex) {
        StepLosses l = obj.forwardBackward(ex);
        if (!Double.isFinite(l.total())) throw new IllegalStateException("non-finite loss " + l.total());
        adam.step(1e-4);
    }
}

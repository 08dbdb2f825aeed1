package ai.polyv.bench;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.ExpertWeights;
import ai.polyv.core.backend.Workspace;
import ai.polyv.core.model.MoeRouter;
import ai.polyv.core.backend.TokenPermutation;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code polyv bench moe}: the sparse MoE FFN as its named stages (docs/spec.md §2 / {@code MoeLayer}): router (logits
 * matmul + softmax + top-k), permutation (group by expert + row gather), experts (SwiGLU over each
 * expert's rows), weighted combine (scatter-add of {@code weight * expert(x)}), and the whole layer (the
 * four in sequence, one wall-clock time), at a given shape and token counts, against two floors: memory
 * (the weights of every expert that received a token, read once, at the measured copy bandwidth) and
 * compute ({@code 2*tokens*topK*3*hidden*ffn} FLOPs at the measured FMA peak).
 *
 * <p>The stages call the same public pieces {@code MoeLayer.forward} calls ({@link MoeRouter#route},
 * {@link TokenPermutation#of}, the backend's gather / matmul / siluMul / scatterAddScaled), grouped stage by
 * stage instead of expert by expert so each stage can be timed alone.
 */
public final class MoeBench {
    private MoeBench() {}

    /** The MoE layer's shape: real PolyV is hidden 3584, ffn 18944, 4 experts, top-2, BF16. */
    public record Shape(int hidden, int ffn, int experts, int topK, DType dtype) {
        public Shape {
            if (hidden < 1 || ffn < 1) throw new IllegalArgumentException("moe shape: hidden and ffn must be positive, got " + hidden + ", " + ffn);
            if (experts < 1) throw new IllegalArgumentException("moe shape: --experts must be >= 1, got " + experts);
            if (topK < 1 || topK > experts) throw new IllegalArgumentException("moe shape: --topk must be in [1, experts=" + experts + "], got " + topK);
            if (dtype == DType.F16) throw new IllegalArgumentException("moe shape: --dtype must be bf16 or f32");
        }

        /** Bytes of one expert's three matrices (gate, up {@code [ffn, hidden]}, down {@code [hidden, ffn]}). */
        public long expertBytes() {
            return 3L * hidden * ffn * dtype.byteSize();
        }

        public long routerBytes() {
            return (long) experts * hidden * dtype.byteSize();
        }

        /** FLOPs of the experts for {@code tokens} tokens: {@code 2 * tokens * topK * 3 * hidden * ffn}. */
        public double expertFlops(int tokens) {
            return 2.0 * tokens * topK * 3.0 * hidden * ffn;
        }

        public double routerFlops(int tokens) {
            return 2.0 * tokens * experts * hidden;
        }
    }

    /**
     * One stage's timing and its floors.
     *
     * @param floorMs  max(memory floor, compute floor)
     * @param fraction floor over measured median (1 = at the roofline)
     */
    public record Stage(String stage, Timing.Stats stats, double bytes, double flops, double memoryFloorMs, double computeFloorMs,
                        double floorMs, double fraction) {
        static Stage of(String stage, double[] ms, double bytes, double flops, Ceilings c) {
            Timing.Stats st = Timing.Stats.of(ms);
            double mem = c.memoryFloorSeconds(bytes) * 1e3, comp = c.computeFloorSeconds(flops) * 1e3, floor = Math.max(mem, comp);
            return new Stage(stage, st, bytes, flops, mem, comp, floor, floor / st.medianMs());
        }
    }

    /**
     * Results at one token count.
     *
     * @param tokensPerExpert     routed (token, slot) pairs per expert in the last run
     * @param expertsHit          experts that received at least one token
     * @param memoryFloorAllMs    memory floor if every expert's weights are read (the brief's floor for large batches)
     */
    public record Point(int tokens, int[] tokensPerExpert, int expertsHit, List<Stage> stages, double memoryFloorAllMs,
                        double tokensPerSecond) {}

    public record Skipped(int tokens, String reason) {}

    public record Report(String benchmark, String backend, MachineInfo machine, Ceilings ceilings, Shape shape, double maxSeconds,
                         List<Point> points, List<Skipped> skipped, double loadAtEnd) {}

    /** Names of the stages, in pipeline order; the last is the whole layer. */
    public static final List<String> STAGES = List.of("router", "permute", "experts", "combine", "layer");

    /** The extra stage timed with {@code fused}: the backend's own {@code moeRoute} + {@code moeExperts} (the fused kernels on cuda-bf16). */
    public static final String FUSED = "fused (moeRoute + moeExperts)";

    /**
     * Timestamps at the stage boundaries of one run: marks 0..4 around the four stages, 5..6 around the fused
     * layer. On the CPU the wall clock; on a GPU, events on the backend's stream (the ops are asynchronous).
     */
    public interface StageClock {
        void mark(int i);

        /** Milliseconds from mark {@code a} to mark {@code b} of the current run (waits for the device where needed). */
        double ms(int a, int b);

        static StageClock wall() {
            long[] t = new long[7];
            return new StageClock() {
                @Override
                public void mark(int i) {
                    t[i] = System.nanoTime();
                }

                @Override
                public double ms(int a, int b) {
                    return (t[b] - t[a]) / 1e6;
                }
            };
        }
    }

    /**
     * Predicted seconds of one layer run: the roofline floor times the slowdown measured at the previous
     * token count (or {@code initialSlowdown} for the first).
     */
    public static double predictSeconds(Shape s, int tokens, Ceilings c, double slowdown) {
        double bytes = Math.min(s.experts(), (long) tokens * s.topK()) * (double) s.expertBytes();
        return Roofline.floorSeconds(bytes, s.expertFlops(tokens), c) * slowdown;
    }

    /**
     * Runs the benchmark. Token counts whose predicted run time exceeds {@code maxSeconds / 2} are skipped with
     * a note (a warm-up and one timed run must fit the budget).
     */
    public static Report run(Backend be, Ceilings c, Shape shape, int[] tokenCounts, double maxSeconds, PrintStream log) {
        return run(be, c, shape, tokenCounts, maxSeconds, log, StageClock.wall(), false);
    }

    /**
     * As {@link #run(Backend, Ceilings, Shape, int[], double, PrintStream)} with stage times from {@code clock} and,
     * with {@code fused}, a last stage {@link #FUSED}.
     */
    public static Report run(Backend be, Ceilings c, Shape shape, int[] tokenCounts, double maxSeconds, PrintStream log, StageClock clock,
                             boolean fused) {
        MachineInfo machine = MachineInfo.current();
        List<Point> points = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        int maxTokens = Arrays.stream(tokenCounts).max().orElseThrow();
        log.printf("moe: making weights: %d experts x 3 x [%d, %d] %s = %.2f GB ...%n", shape.experts(), shape.ffn(), shape.hidden(),
                shape.dtype(), shape.experts() * shape.expertBytes() / 1e9);
        try (Arena arena = Arena.ofShared(); Workspace ws = be.workspace()) {
            Inputs in = new Inputs(arena, 0x40E);
            Tensor router = weight(be, in.random(shape.dtype(), 0.05f, shape.experts(), shape.hidden()));
            Tensor[][] experts = new Tensor[shape.experts()][3];   // [expert][gate, up, down]
            for (int e = 0; e < shape.experts(); e++) {
                experts[e][0] = weight(be, in.random(shape.dtype(), 0.02f, shape.ffn(), shape.hidden()));
                experts[e][1] = weight(be, in.random(shape.dtype(), 0.02f, shape.ffn(), shape.hidden()));
                experts[e][2] = weight(be, in.random(shape.dtype(), 0.02f, shape.hidden(), shape.ffn()));
            }
            Tensor xAll = ws.f32(maxTokens, shape.hidden());        // [maxTokens, hidden]
            be.upload(in.f32(maxTokens, shape.hidden()).toFloatArray(), xAll);
            double slowdown = 8;
            for (int tokens : tokenCounts) {
                double predicted = predictSeconds(shape, tokens, c, slowdown);
                if (2 * predicted > maxSeconds) {
                    String why = String.format("predicted %.1f s per run (roofline floor x %.1f measured slowdown); a warm-up and one run "
                            + "exceed --max-seconds %.0f", predicted, slowdown, maxSeconds);
                    log.printf("moe: tokens=%d skipped: %s%n", tokens, why);
                    skipped.add(new Skipped(tokens, why));
                    continue;
                }
                Tensor x = xAll.rows(0, tokens);
                int minRuns = predicted * 4 <= maxSeconds ? 3 : 1;
                Timing.Plan plan = new Timing.Plan(1, Math.min(2.0, maxSeconds / 10), minRuns, 15, maxSeconds / 2);
                log.printf("moe: tokens=%d (predicted %.2f s per run) ...%n", tokens, predicted);
                Point p = measure(be, ws, c, shape, x, experts, router, plan, clock, fused);
                points.add(p);
                Stage layer = p.stages().get(STAGES.size() - 1);
                slowdown = Math.max(1, layer.stats().medianMs() / layer.floorMs());
                log.printf("moe: tokens=%d layer %.2f ms (%.0f%% of roofline)%n", tokens, layer.stats().medianMs(), 100 * layer.fraction());
            }
        }
        return new Report("moe", be.name(), machine, c, shape, maxSeconds, points, skipped, MachineInfo.loadAverage());
    }

    private static Tensor weight(Backend be, Tensor host) {
        return be.weight(host.dtype(), host.data(), host.shape());
    }

    private static Point measure(Backend be, Workspace outer, Ceilings c, Shape s, Tensor x, Tensor[][] experts, Tensor router,
                                 Timing.Plan plan, StageClock clock, boolean fused) {
        int n = x.rows(), h = s.hidden();
        Tensor out = outer.f32(n, h);                               // [tokens, hidden]
        Tensor logits = outer.f32(n, s.experts());                  // [tokens, experts] (fused stage)
        int[] fusedIds = new int[n * s.topK()];
        float[] fusedWeights = new float[n * s.topK()];
        List<Tensor> gates = new ArrayList<>(), ups = new ArrayList<>(), downs = new ArrayList<>();
        for (Tensor[] e : experts) {
            gates.add(e[0]);
            ups.add(e[1]);
            downs.add(e[2]);
        }
        ExpertWeights expertWeights = new ExpertWeights(gates, ups, downs);
        double[][] ms = new double[STAGES.size() + 1][plan.maxRuns()];
        int done = 0;
        double spent = 0;
        int[] counts = new int[s.experts()];
        long warmStart = System.nanoTime();
        for (int run = 0; done < plan.maxRuns(); run++) {
            boolean timed = run >= plan.warmup() && (System.nanoTime() - warmStart) / 1e9 >= plan.warmupSeconds();
            if (timed && done >= plan.minRuns() && spent >= plan.maxSeconds()) break;
            try (Workspace ws = be.workspace()) {
                clock.mark(0);
                long t0 = System.nanoTime();
                MoeRouter.Routing r = MoeRouter.route(be, x, router, s.topK(), false);
                clock.mark(1);
                TokenPermutation perm = TokenPermutation.of(r.n(), r.k(), r.numExperts(), r.ids(), r.weights());
                Tensor[] xe = new Tensor[s.experts()], ye = new Tensor[s.experts()];
                for (int e = 0; e < s.experts(); e++) {
                    int cnt = perm.count(e);
                    counts[e] = cnt;
                    if (cnt == 0) continue;
                    xe[e] = ws.f32(cnt, h);                         // [count, hidden]
                    be.gatherRows(x, perm.tokensOf(e), xe[e]);
                }
                clock.mark(2);
                for (int e = 0; e < s.experts(); e++) {
                    if (xe[e] == null) continue;
                    int cnt = xe[e].rows();
                    Tensor g = ws.f32(cnt, s.ffn()), u = ws.f32(cnt, s.ffn());   // [count, ffn]
                    be.matmul(xe[e], experts[e][0], null, g);
                    be.matmul(xe[e], experts[e][1], null, u);
                    be.siluMul(g, u, g);
                    ye[e] = ws.f32(cnt, h);
                    be.matmul(g, experts[e][2], null, ye[e]);
                }
                clock.mark(3);
                be.fill(out, 0f);
                for (int e = 0; e < s.experts(); e++) {
                    if (ye[e] != null) be.scatterAddScaled(ye[e], perm.tokensOf(e), perm.weightsOf(e), out);
                }
                clock.mark(4);
                if (fused) {
                    clock.mark(5);
                    be.moeRoute(x, router, s.topK(), false, logits, fusedIds, fusedWeights);
                    be.moeExperts(x, s.topK(), fusedIds, fusedWeights, expertWeights, out);
                    clock.mark(6);
                }
                if (timed) {
                    for (int st = 0; st < 4; st++) ms[st][done] = clock.ms(st, st + 1);
                    ms[4][done] = clock.ms(0, 4);
                    if (fused) ms[5][done] = clock.ms(5, 6);
                    spent += (System.nanoTime() - t0) / 1e9;
                    done++;
                }
            }
        }
        int hit = 0;
        for (int cnt : counts) if (cnt > 0) hit++;
        double act = 4.0 * n * h;                                   // one [tokens, hidden] f32 activation
        double pairs = (double) n * s.topK();
        double expertBytes = (double) hit * s.expertBytes() + 2 * pairs * 4.0 * h + 2 * pairs * 4.0 * s.ffn() * 3;
        List<Stage> stages = new ArrayList<>();
        double[][] cut = new double[STAGES.size() + 1][];
        for (int st = 0; st <= STAGES.size(); st++) cut[st] = Arrays.copyOf(ms[st], done);
        stages.add(Stage.of("router", cut[0], s.routerBytes() + act + 4.0 * n * s.experts(), s.routerFlops(n), c));
        stages.add(Stage.of("permute", cut[1], 2 * pairs * 4.0 * h, 0, c));
        stages.add(Stage.of("experts", cut[2], expertBytes, s.expertFlops(n), c));
        stages.add(Stage.of("combine", cut[3], 3 * pairs * 4.0 * h + act, 2 * pairs * h, c));
        double layerBytes = s.routerBytes() + (double) hit * s.expertBytes() + 2 * act;
        stages.add(Stage.of("layer", cut[4], layerBytes, s.expertFlops(n) + s.routerFlops(n), c));
        if (fused) stages.add(Stage.of(FUSED, cut[5], layerBytes, s.expertFlops(n) + s.routerFlops(n), c));
        double allFloor = c.memoryFloorSeconds(s.routerBytes() + (double) s.experts() * s.expertBytes()) * 1e3;
        return new Point(n, counts.clone(), hit, stages, allFloor, n / stages.get(STAGES.size() - 1).stats().medianSeconds());
    }

    public static String table(Report r) {
        Table t = new Table("tokens", "stage", "median ms", "runs", "GB/s", "GFLOP/s", "mem floor ms", "compute floor ms", "of roofline");
        for (Point p : r.points()) {
            for (Stage st : p.stages()) {
                double sec = st.stats().medianSeconds();
                t.row(p.tokens(), st.stage(), Table.num(st.stats().medianMs(), 2), st.stats().runs(),
                        Table.num(Roofline.gbPerSecond(st.bytes(), sec), 1), Table.num(Roofline.gflopPerSecond(st.flops(), sec), 1),
                        Table.num(st.memoryFloorMs(), 2), Table.num(st.computeFloorMs(), 2), String.format("%.0f%%", 100 * st.fraction()));
            }
        }
        StringBuilder sb = new StringBuilder(t.render());
        for (Point p : r.points()) {
            sb.append(String.format("tokens=%d: experts hit %d of %d, per expert %s, %.1f tokens/s; all-experts memory floor %.2f ms%n",
                    p.tokens(), p.expertsHit(), r.shape().experts(), Arrays.toString(p.tokensPerExpert()), p.tokensPerSecond(),
                    p.memoryFloorAllMs()));
        }
        for (Skipped s : r.skipped()) sb.append("tokens=").append(s.tokens()).append(" skipped: ").append(s.reason()).append('\n');
        return sb.toString();
    }
}

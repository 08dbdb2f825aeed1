package ai.polyv.train.golden;

import ai.polyv.loader.safetensors.SafetensorsFile;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.model.ForwardTrace;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.Session;
import ai.polyv.core.model.VisionInput;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.PolyVObjective;
import ai.polyv.train.TrainStage;
import ai.polyv.train.StepLosses;
import ai.polyv.train.TrainExample;
import ai.polyv.train.optim.AdamW;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs the cases of a golden folder ({@code golden.json} + {@code golden.safetensors}) on a
 * model and compares every reference tensor the model can produce (see golden/README.md): position ids,
 * rope delta, vision embeds and intermediates, inputs_embeds, decoder hidden states, final hidden, logits,
 * MoE routing, greedy ids and per-step logits; for the training case (one with an {@code optimizer}) the
 * losses, gradients and AdamW updates of every step. Inputs of a case are read from the golden file itself.
 */
public final class GoldenVerifier {

    /** Golden names of a case that are inputs, not outputs. */
    private static final Set<String> INPUT_SUFFIXES = Set.of("input_ids", "frames_u8", "pixel_values", "grid_thw",
            "second_per_grid_ts", "depth", "intrinsics", "extrinsics", "pe3d", "labels", "synergy_positions");

    /** Result of one case. */
    public record CaseResult(String name, List<TensorCheck> checks, String skipped) {
        public boolean passed() {
            return skipped != null || (!checks.isEmpty() && checks.stream().allMatch(TensorCheck::passed));
        }
    }

    private final PolyVModel model;
    private final JsonNode golden;
    private final Path goldenFile;
    private final double tolerance;

    /** {@code goldenFile}: the golden.safetensors; golden.json is read from the same folder. */
    public GoldenVerifier(PolyVModel model, Path goldenFile) {
        this.model = model;
        this.goldenFile = goldenFile;
        Path json = goldenFile.resolveSibling("golden.json");
        PathChecks.regularFile("golden file", goldenFile);
        String jsonProblem = PathChecks.notARegularFile(json);
        if (jsonProblem != null) throw new IllegalArgumentException("golden case list " + json + " " + jsonProblem + " (expected beside " + goldenFile + ")");
        try {
            this.golden = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + json + ": " + e.getMessage(), e);
        }
        JsonNode tol = golden.path("tolerance").path("relative_l2");
        this.tolerance = tol.isNumber() ? tol.asDouble() : 1e-4;
    }

    public double tolerance() {
        return tolerance;
    }

    public List<String> caseNames() {
        List<String> names = new ArrayList<>();
        golden.path("cases").fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Runs the named cases (all when {@code only} is null), printing one line per tensor to {@code out}. */
    public List<CaseResult> run(String only, PrintStream out) {
        List<CaseResult> results = new ArrayList<>();
        if (only != null && !golden.path("cases").has(only)) {
            throw new IllegalArgumentException("golden " + goldenFile + " has no case '" + only + "' (cases: " + caseNames() + ")");
        }
        try (SafetensorsFile g = SafetensorsFile.open(goldenFile)) {
            for (String name : caseNames()) {
                if (only != null && !only.equals(name)) continue;
                CaseResult r = runCase(g, name, golden.path("cases").path(name));
                if (r.skipped() != null) out.println(String.format("%-12s skipped: %s", name, r.skipped()));
                for (TensorCheck c : r.checks()) out.println(c.line(name));
                results.add(r);
            }
        }
        return results;
    }

    private CaseResult runCase(SafetensorsFile g, String name, JsonNode meta) {
        if (meta.has("optimizer")) return runTrainCase(g, name, meta);
        String p = name + ".";
        int[] ids = ints(g, p + "input_ids");
        List<VisionInput> inputs = visionInputs(g, p, meta);
        int steps = meta.path("greedy_steps").asInt(0);
        Recorder rec = new Recorder();
        try (Session s = model.newSession(ids.length + Math.max(steps, 1))) {
            float[] logits = s.prefill(ids, inputs, rec);
            if (steps > 0) {
                int vocab = logits.length;
                long[] greedy = new long[steps];
                float[] stepLogits = new float[steps * vocab];
                for (int i = 0; i < steps; i++) {
                    if (i > 0) logits = s.decode((int) greedy[i - 1]);
                    System.arraycopy(logits, 0, stepLogits, i * vocab, vocab);
                    greedy[i] = argmax(logits);
                }
                rec.longs.put("greedy_ids", new Rec<>(greedy, new long[] {steps}));
                rec.floats.put("greedy_step_logits", new Rec<>(stepLogits, new long[] {steps, vocab}));
            }
        }
        rec.concatEmbeds("image");
        rec.concatEmbeds("video");
        List<TensorCheck> checks = compare(g, p, rec, t -> INPUT_SUFFIXES.contains(t.substring(t.lastIndexOf('.') + 1))
                || t.endsWith(".xyz")); // 3D point means: computed by the preprocessing (Position3D), not the model
        return new CaseResult(name, checks, null);
    }

    /** Every golden tensor of the case (prefix {@code p}) that {@code isInput} does not exclude, against {@code rec}. */
    private List<TensorCheck> compare(SafetensorsFile g, String p, Recorder rec, java.util.function.Predicate<String> isInput) {
        List<TensorCheck> checks = new ArrayList<>();
        for (String full : new TreeMap<>(g.tensors()).keySet()) {
            if (!full.startsWith(p)) continue;
            String t = full.substring(p.length());
            if (t.equals("input_ids") || isInput.test(t)) continue;
            TensorView ref = g.tensor(full);
            if (ref.dtype().isInteger()) {
                Rec<long[]> o = rec.longs.get(t);
                checks.add(o == null ? TensorCheck.missing(t, "not produced")
                        : TensorCheck.ints(t, o.values(), o.shape(), ref.toLongArray(), ref.shape()));
            } else {
                Rec<float[]> o = rec.floats.get(t);
                checks.add(o == null ? TensorCheck.missing(t, "not produced")
                        : TensorCheck.floats(t, o.values(), o.shape(), ref.toFloatArray(), ref.shape(), tolerance));
            }
        }
        checks.sort((a, b) -> order(a.name()) - order(b.name()) != 0 ? order(a.name()) - order(b.name()) : compareNatural(a.name(), b.name()));
        return checks;
    }

    /** Vision inputs of a case in segment order, read from the golden file. */
    private static List<VisionInput> visionInputs(SafetensorsFile g, String p, JsonNode meta) {
        List<VisionInput> inputs = new ArrayList<>();
        Map<String, Integer> perKind = new LinkedHashMap<>();
        int videoIndex = 0;
        for (JsonNode seg : meta.path("segments")) {
            String kind = seg.get(0).asText();
            if (!kind.equals("image") && !kind.equals("video")) continue;
            int n = perKind.merge(kind, 1, Integer::sum) - 1;
            String vp = p + kind + n + ".";
            long[] grid = g.tensor(vp + "grid_thw").toLongArray();
            double spg = 1.0;
            if (kind.equals("video")) {
                float[] s = g.has(p + "second_per_grid_ts") ? g.tensor(p + "second_per_grid_ts").toFloatArray() : new float[] {1f};
                spg = s[Math.min(videoIndex++, s.length - 1)];
            }
            float[] pe3d = g.has(vp + "pe3d") ? g.tensor(vp + "pe3d").toFloatArray() : null;
            inputs.add(new VisionInput(kind.equals("image") ? VisionInput.Kind.IMAGE : VisionInput.Kind.VIDEO,
                    g.tensor(vp + "pixel_values").toFloatArray(),
                    new VisionInput.GridThw((int) grid[0], (int) grid[1], (int) grid[2]), spg, pe3d));
        }
        return inputs;
    }

    /**
     * The training case: the objective over the golden sample, then {@code steps} AdamW steps with the
     * case's optimizer settings. Compared: {@code step<s>.loss.*} (losses before step s),
     * {@code step<s>.grad.<param>} (gradient before step s), {@code step<s>.param.<param>} (value after it),
     * {@code step<steps>.loss.*} (after all steps), and the synergy positions (exact). The stage is the one
     * whose trainable set is the golden one (experts among the gradients: 2-2).
     */
    private CaseResult runTrainCase(SafetensorsFile g, String name, JsonNode meta) {
        String p = name + ".";
        int[] ids = ints(g, p + "input_ids");
        TrainExample ex = new TrainExample(ids, ints(g, p + "labels"), visionInputs(g, p, meta),
                g.has(p + "teacher.temporal") ? g.tensor(p + "teacher.temporal").toFloatArray() : null,
                g.has(p + "teacher.spatial") ? g.tensor(p + "teacher.spatial").toFloatArray() : null);
        JsonNode lw = meta.path("loss_weights"), opt = meta.path("optimizer");
        PolyVObjective.LossWeights defaults = PolyVObjective.LossWeights.fromConfig(model.config());
        PolyVObjective.LossWeights weights = new PolyVObjective.LossWeights(lw.path("ce").asDouble(defaults.ce()),
                lw.path("mse_temporal").asDouble(defaults.mseTemporal()), lw.path("mse_spatial").asDouble(defaults.mseSpatial()),
                lw.path("aux").asDouble(defaults.aux()));
        if (!opt.path("name").asText("adamw").equalsIgnoreCase("adamw")) {
            throw new IllegalArgumentException("golden case " + name + ": optimizer '" + opt.path("name").asText() + "' is not supported (adamw)");
        }
        AdamW.Hyper hyper = new AdamW.Hyper(opt.path("lr").asDouble(), opt.path("betas").path(0).asDouble(0.9),
                opt.path("betas").path(1).asDouble(0.999), opt.path("eps").asDouble(1e-8), opt.path("weight_decay").asDouble(0.01));
        boolean experts = g.tensors().keySet().stream().anyMatch(k -> k.startsWith(p + "step0.grad.") && k.contains(".mlp.experts."));
        TrainStage stage = experts ? TrainStage.STAGE_2_2 : TrainStage.STAGE_2_1;
        int steps = meta.path("steps").asInt(2);
        Recorder rec = new Recorder();
        try (PolyVObjective obj = PolyVObjective.create(model, stage, weights, Runtime.getRuntime().availableProcessors(),
                PolyVObjective.DEFAULT_HEAD_SEED)) {
            int synId = model.config().synergy() == null ? -1 : model.config().synergy().tokenId();
            int[] syn = java.util.stream.IntStream.range(0, ids.length).filter(i -> ids[i] == synId).toArray();
            rec.ints("synergy_positions", syn, syn.length);
            AdamW adam = new AdamW(obj.params(), hyper);
            for (int s = 0; s <= steps; s++) {
                StepLosses l = s < steps ? obj.forwardBackward(ex) : obj.losses(ex);
                String sp = "step" + s + ".";
                rec.scalar(sp + "loss.ce", l.ce());
                rec.scalar(sp + "loss.mse_temporal", l.mseTemporal());
                rec.scalar(sp + "loss.mse_spatial", l.mseSpatial());
                rec.scalar(sp + "loss.aux", l.aux());
                rec.scalar(sp + "loss.total", l.total());
                if (s == steps) break;
                for (Param prm : obj.params()) rec.floats(sp + "grad." + prm.name(), prm.grad().clone(), prm.shape());
                adam.step(hyper.lr());
                for (Param prm : obj.params()) rec.floats(sp + "param." + prm.name(), prm.value().clone(), prm.shape());
            }
        }
        Set<String> trainInputs = Set.of("input_ids", "labels", "frames_u8", "pixel_values", "grid_thw", "pe3d");
        List<TensorCheck> checks = compare(g, p, rec, t -> t.startsWith("teacher.") || trainInputs.contains(t.substring(t.lastIndexOf('.') + 1)));
        // a trained parameter the reference does not list is a different trainable set
        for (String produced : rec.floats.keySet()) {
            if (produced.startsWith("step0.grad.") && !g.has(p + produced)) checks.add(TensorCheck.missing(produced, "trained here, not in the reference"));
        }
        return new CaseResult(name, checks, null);
    }

    /** Index of the largest value; ties go to the lower index. */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static int[] ints(SafetensorsFile g, String name) {
        long[] l = g.tensor(name).toLongArray();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = Math.toIntExact(l[i]);
        return out;
    }

    private static final List<String> ORDER = List.of("position_ids", "rope_delta", "vision.patch_embed", "vision.block",
            "image.embeds", "video.embeds", "inputs_embeds", "moe.", "hidden.", "final_hidden", "logits", "greedy_ids", "greedy_step_logits");

    private static int order(String name) {
        for (int i = 0; i < ORDER.size(); i++) if (name.startsWith(ORDER.get(i))) return i;
        return ORDER.size();
    }

    private static int compareNatural(String a, String b) {
        String[] x = a.split("\\."), y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c;
            if (x[i].matches("\\d+") && y[i].matches("\\d+")) c = Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]));
            else c = x[i].compareTo(y[i]);
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    }

    private record Rec<T>(T values, long[] shape) {}

    /** Collects traced tensors; vision intermediates of later inputs overwrite earlier ones (the last one is compared). */
    private static final class Recorder implements ForwardTrace {
        final Map<String, Rec<float[]>> floats = new LinkedHashMap<>();
        final Map<String, Rec<long[]>> longs = new LinkedHashMap<>();

        @Override
        public void floats(String name, float[] values, long... shape) {
            floats.put(name, new Rec<>(values, shape.clone()));
        }

        @Override
        public void ints(String name, int[] values, long... shape) {
            long[] l = new long[values.length];
            for (int i = 0; i < l.length; i++) l[i] = values[i];
            longs.put(name, new Rec<>(l, shape.clone()));
        }

        void scalar(String name, double value) {
            floats.put(name, new Rec<>(new float[] {(float) value}, new long[] {1}));
        }

        /** Joins {@code <kind>.embeds#<input>} rows of one kind, in input order, into {@code <kind>.embeds}. */
        void concatEmbeds(String kind) {
            List<Rec<float[]>> parts = new ArrayList<>();
            for (var e : floats.entrySet()) if (e.getKey().startsWith(kind + ".embeds#")) parts.add(e.getValue());
            if (parts.isEmpty()) return;
            long cols = parts.getFirst().shape()[1];
            int total = parts.stream().mapToInt(r -> r.values().length).sum();
            float[] all = new float[total];
            int at = 0;
            for (Rec<float[]> r : parts) {
                System.arraycopy(r.values(), 0, all, at, r.values().length);
                at += r.values().length;
            }
            floats.put(kind + ".embeds", new Rec<>(all, new long[] {total / cols, cols}));
        }
    }
}

package ai.polyv.train.loop;

import ai.polyv.train.autograd.Param;
import ai.polyv.train.StepLosses;
import ai.polyv.train.TrainingObjective;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.checkpoint.TrainSettings;
import ai.polyv.train.checkpoint.TrainState;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.dist.Collective;
import ai.polyv.train.optim.AdamW;
import ai.polyv.train.optim.GradClip;
import ai.polyv.train.optim.LrSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The training loop. One optimizer step:
 * <ol>
 *   <li>take the next examples in {@link DataOrder} (one, or as many as fit in {@code batchTokens});</li>
 *   <li>{@link TrainingObjective#forwardBackward} each (gradients accumulate), then scale the gradients by
 *       {@code 1/examples} so a step follows the mean loss;</li>
 *   <li>clip to the global norm ({@link GradClip}), fail on a non-finite loss or gradient;</li>
 *   <li>{@link AdamW#step} at the schedule's rate for this step (0-based), which zeroes the gradients.</li>
 * </ol>
 * Before the first step of a fresh run the held-out set (if any) is evaluated as step 0 (the baseline;
 * its training columns are empty). Every {@code saveEvery} steps and after the last one: the held-out set is evaluated
 * ({@link TrainingObjective#evaluate}: no update), a checkpoint is saved
 * ({@link CheckpointStore}) and the loss curve ({@code loss.csv}, {@code loss.png}) rewritten. Resuming
 * restores parameters, AdamW moments and step, data order position and the curve, so the continued run
 * computes exactly the losses the uninterrupted run would have.
 *
 * <p>Data parallel ({@link Collective} of more than one rank): every rank runs this loop on the same data order and
 * takes the same global batch; rank r computes the examples at positions r, r + size, ... of it, then the gradients
 * and the losses are summed over the ranks ({@link Collective#allReduceSum}, fixed rank order: every rank gets the same
 * bits), and every rank scales, clips and applies the same AdamW step. Rank 0 alone evaluates the held-out set and
 * writes checkpoints and the curve; a resume loads the same checkpoint on every rank.
 */
public final class Trainer {

    /** Receives each finished step (for the progress line). */
    @FunctionalInterface
    public interface Listener {
        void onStep(StepRecord record, long sequenceTokens, long nanos);
    }

    /** Outcome: the whole loss curve and the newest checkpoint. */
    public record Result(List<StepRecord> history, Path lastCheckpoint, long firstStep) {}

    public static final String CHECKPOINTS = "checkpoints";
    public static final String CSV = "loss.csv";
    public static final String PNG = "loss.png";

    private final TrainingObjective objective;
    private final TrainDataset train;
    private final TrainDataset eval;
    private final TrainOptions options;
    private final Path out;
    private final CheckpointStore store;
    private final Collective collective;

    public Trainer(TrainingObjective objective, TrainDataset train, TrainDataset eval, TrainOptions options, Path out) {
        this(objective, train, eval, options, out, new CheckpointStore(out.resolve(CHECKPOINTS), options.keep()));
    }

    public Trainer(TrainingObjective objective, TrainDataset train, TrainDataset eval, TrainOptions options, Path out,
                   CheckpointStore store) {
        this(objective, train, eval, options, out, store, Collective.single());
    }

    /** One rank of a data-parallel run (every rank gets the same arguments but its own {@code collective} handle). */
    public Trainer(TrainingObjective objective, TrainDataset train, TrainDataset eval, TrainOptions options, Path out,
                   Collective collective) {
        this(objective, train, eval, options, out, new CheckpointStore(out.resolve(CHECKPOINTS), options.keep()), collective);
    }

    private Trainer(TrainingObjective objective, TrainDataset train, TrainDataset eval, TrainOptions options, Path out,
                    CheckpointStore store, Collective collective) {
        this.objective = objective;
        this.train = train;
        this.eval = eval;
        this.options = options;
        this.out = out;
        this.store = store;
        this.collective = collective;
    }

    public TrainSettings settings() {
        TrainOptions o = options;
        return new TrainSettings(o.stage().label(), o.steps(), o.lr(), o.schedule(), o.warmupRatio(), o.minLr(), o.clip(),
                o.batchTokens(), o.seed(), o.weightDecay(), train.size());
    }

    /** The loaded checkpoint to resume from, checked against this run's settings. */
    public CheckpointStore.Loaded loadResume(Path where) {
        CheckpointStore.Loaded l = CheckpointStore.load(CheckpointStore.resolve(where));
        String diff = settings().mismatch(l.state().settings());
        if (diff != null) throw new IllegalArgumentException("cannot resume from " + l.dir() + ": " + diff);
        if (l.state().step() > options.steps()) {
            throw new IllegalArgumentException("cannot resume from " + l.dir() + ": it is at step " + l.state().step() + " of " + options.steps());
        }
        return l;
    }

    /** Runs to {@code options.steps()}, from scratch ({@code resume == null}) or from a loaded checkpoint. */
    public Result run(CheckpointStore.Loaded resume, Listener listener) {
        List<Param> params = objective.params();
        AdamW adam = new AdamW(params, new AdamW.Hyper(options.lr(), 0.9, 0.999, 1e-8, options.weightDecay()));
        LrSchedule schedule = LrSchedule.of(options.schedule(), options.lr(), options.steps(), options.warmupRatio(), options.minLr());
        long step = 0;
        List<StepRecord> history = new ArrayList<>();
        DataOrder order;
        Path last = null;
        if (resume != null) {
            CheckpointStore.apply(resume, params, adam);
            step = resume.state().step();
            history.addAll(resume.state().history());
            order = new DataOrder(options.seed(), train.size(), resume.state().epoch(), resume.state().cursor());
            last = resume.dir();
        } else {
            order = new DataOrder(options.seed(), train.size(), 0, 0);
        }
        long firstStep = step;
        adam.zeroGrad();
        boolean lead = collective.rank() == 0;   // evaluates, saves, writes the curve
        if (resume == null && eval != null && lead) {
            // step 0: the held-out loss of the untrained model, the baseline the curve starts from
            double nan = Double.NaN;
            history.add(evaluate(new StepRecord(0, 0, nan, nan, nan, nan, nan, nan, 0, null, null)));
        }
        while (step < options.steps()) {
            long t0 = System.nanoTime();
            List<Integer> batch = new ArrayList<>();
            long seqTokens = 0;
            do {
                int i = order.next();
                batch.add(i);
                seqTokens += train.tokens(i);
            } while (options.batchTokens() > 0 && seqTokens + train.tokens(order.peek()) <= options.batchTokens());
            double ce = 0, mt = 0, ms = 0, aux = 0, total = 0;
            long labelTokens = 0;
            for (int j = collective.rank(); j < batch.size(); j += collective.size()) {
                StepLosses l = objective.forwardBackward(train.example(batch.get(j)));
                ce += l.ce();
                mt += l.mseTemporal();
                ms += l.mseSpatial();
                aux += l.aux();
                total += l.total();
                labelTokens += l.tokens();
            }
            if (collective.size() > 1) {
                double[] sums = {ce, mt, ms, aux, total, labelTokens};
                collective.allReduceSum(sums);
                ce = sums[0];
                mt = sums[1];
                ms = sums[2];
                aux = sums[3];
                total = sums[4];
                labelTokens = (long) sums[5];
                allReduceGradients(params);
            }
            int n = batch.size();
            if (n > 1) GradClip.scale(params, 1f / n);
            if (!Double.isFinite(total)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "step %d: the loss is %s (examples %s of %s)", step + 1, total, batch,
                        train.file()));
            }
            double norm = GradClip.clip(params, options.clip());
            if (!Double.isFinite(norm)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "step %d: the gradient norm is %s (examples %s of %s)", step + 1, norm,
                        batch, train.file()));
            }
            double lr = schedule.lr(step);
            adam.step(lr);
            step++;
            StepRecord rec = new StepRecord(step, lr, ce / n, mt / n, ms / n, aux / n, total / n, norm, labelTokens, null, null);
            boolean save = lead && (step % options.saveEvery() == 0 || step == options.steps());
            if (save && eval != null) rec = evaluate(rec);
            history.add(rec);
            if (save) {
                last = store.save(params, adam, new TrainState(TrainState.FORMAT, step, adam.stepCount(), order.epoch(), order.cursor(),
                        settings(), history));
                writeCurve(history);
            }
            listener.onStep(rec, seqTokens, System.nanoTime() - t0);
        }
        if (firstStep == options.steps() && lead) writeCurve(history);
        return new Result(List.copyOf(history), last, firstStep);
    }

    /** Sums every parameter's gradient over the ranks: one buffer for all of them, one collective call per step. */
    private void allReduceGradients(List<Param> params) {
        long total = 0;
        for (Param p : params) total += p.grad().length;
        if (total > Integer.MAX_VALUE - 8) throw new IllegalStateException(total + " gradient values do not fit one buffer");
        float[] flat = new float[(int) total];
        int at = 0;
        for (Param p : params) {
            System.arraycopy(p.grad(), 0, flat, at, p.grad().length);
            at += p.grad().length;
        }
        collective.allReduceSum(flat);
        at = 0;
        for (Param p : params) {
            System.arraycopy(flat, at, p.grad(), 0, p.grad().length);
            at += p.grad().length;
        }
    }

    private StepRecord evaluate(StepRecord rec) {
        double ce = 0, total = 0;
        for (int i = 0; i < eval.size(); i++) {
            StepLosses l = objective.evaluate(eval.example(i));
            ce += l.ce();
            total += l.total();
        }
        return rec.withEval(ce / eval.size(), total / eval.size());
    }

    private void writeCurve(List<StepRecord> history) {
        LossCurve.writeCsv(out.resolve(CSV), history);
        LossCurve.writePng(out.resolve(PNG), history, "polyv train, stage " + options.stage().label() + " (" + options.schedule() + ", lr "
                + options.lr() + ")");
    }
}

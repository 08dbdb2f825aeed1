package ai.polyv.spark;

import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.train.TrainingObjective;
import ai.polyv.train.checkpoint.CheckpointStore;
import ai.polyv.train.checkpoint.ModelExport;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.loop.ModelObjectives;
import ai.polyv.train.loop.TrainOptions;
import ai.polyv.train.loop.Trainer;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.Function1;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;

/**
 * Data-parallel fine-tuning on Spark: one barrier stage of {@code ranks} tasks (Spark starts them together or not at
 * all), each running the whole {@link Trainer} loop on the same data order with a {@link BarrierCollective}: rank r
 * computes the gradients of its share of every global batch, they are summed over the ranks every step, and every
 * rank applies the same AdamW step. Rank 0 evaluates, writes checkpoints, the loss curve and, at the end,
 * {@code out/final} (a model folder for {@code polyv generate}). Paths must be readable (and {@code out} writable by
 * rank 0) at the same place on every executor.
 */
public final class SparkTrainer {
    private SparkTrainer() {}

    /** A training run as it travels to the tasks. {@code eval} and {@code resume} may be null. */
    public record Job(String model, String data, String eval, String out, TrainOptions options, String backend, String resume)
            implements Serializable {}

    /** One row of rank 0's loss curve, as it comes back to the driver. */
    public record Step(long step, double lr, double ce, double total, double gradNorm, long tokens, Double evalTotal) implements Serializable {
        static Step of(StepRecord r) {
            return new Step(r.step(), r.lr(), r.ce(), r.total(), r.gradNorm(), r.tokens(), r.evalTotal());
        }
    }

    /** Runs the job on {@code ranks} tasks and returns rank 0's loss curve (resumed steps included). */
    public static List<Step> train(SparkSession spark, int ranks, Job job) {
        if (ranks < 1) throw new IllegalArgumentException("--ranks must be >= 1, got " + ranks);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Integer> ids = IntStream.range(0, ranks).boxed().toList();
        Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Step>> task =
                (Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Step>> & Serializable)
                        it -> CollectionConverters.asScala(rank(job));
        Object collected = sc.parallelize(ids, ranks).rdd().barrier().mapPartitions(task, false, ClassTag$.MODULE$.apply(Step.class)).collect();
        List<Step> out = new ArrayList<>();
        for (Object o : (Object[]) collected) out.add((Step) o);
        return out;
    }

    /** The task of one rank: the whole loop; rank 0 returns its curve, the others nothing. */
    private static Iterator<Step> rank(Job job) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        BarrierCollective collective = new BarrierCollective(ctx);
        Path model = Path.of(job.model());
        PolyVConfig config = PolyVConfig.load(model);
        VisionPreprocessor pre = new VisionPreprocessor();
        TrainDataset train = TrainDataset.open(Path.of(job.data()), config, pre);
        TrainDataset eval = job.eval() == null ? null : TrainDataset.open(Path.of(job.eval()), config, pre);
        TrainingObjective objective = ModelObjectives.POLYV.create(model, config, job.options().stage(), job.backend());
        try {
            Trainer trainer = new Trainer(objective, train, eval, job.options(), Path.of(job.out()), collective);
            CheckpointStore.Loaded from = job.resume() == null ? null : trainer.loadResume(Path.of(job.resume()));
            Trainer.Result r = trainer.run(from, (rec, tokens, nanos) -> { });
            if (collective.rank() != 0) return List.<Step>of().iterator();
            ModelExport.write(model, objective.params(), Path.of(job.out()).resolve("final"));
            return r.history().stream().map(Step::of).toList().iterator();
        } finally {
            if (objective instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the objective of rank " + collective.rank() + ": " + e.getMessage(), e);
                }
            }
        }
    }
}

package ai.polyv.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.train.PolyVObjective;
import ai.polyv.train.TrainStage;
import ai.polyv.train.checkpoint.StepRecord;
import ai.polyv.train.data.TrainDataTestRows;
import ai.polyv.train.data.TrainDataWriter;
import ai.polyv.train.data.TrainDataset;
import ai.polyv.train.data.TrainRow;
import ai.polyv.train.loop.TrainOptions;
import ai.polyv.train.loop.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training as a Spark barrier stage of 2 tasks in {@code local[2]} on tiny-a: the loss curve of one
 * process within 1e-6 relative, checkpoints and the final model written by rank 0, and a resume from its checkpoint
 * that continues the same curve.
 */
class SparkTrainerTest {
    static final Path TINY_A = SparkGenerateTest.TINY_A;

    @TempDir
    Path tmp;

    @Test
    void twoSparkRanksFollowTheOneProcessCurveAndResume() throws Exception {
        Path data = tmp.resolve("train.arrow");
        List<TrainRow> rows = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            rows.add(i % 3 == 0 ? TrainDataTestRows.imageRow() : i % 3 == 1 ? TrainDataTestRows.videoRow()
                    : TrainRow.text(new int[] {1, 2, 3 + i}, new int[] {-100, 2, 3 + i}));
        }
        TrainDataWriter.write(data, rows);
        TrainOptions options = new TrainOptions(TrainStage.STAGE_2_1, 3, 1e-3, "constant", 0, 0, 1.0, 40, 2, 7, 0.01, 5);

        List<StepRecord> one;
        try (PolyVObjective obj = PolyVObjective.open(TINY_A, TrainStage.STAGE_2_1, "cpu")) {
            TrainDataset train = TrainDataset.open(data, PolyVConfig.load(TINY_A), new VisionPreprocessor());
            one = new Trainer(obj, train, null, options, tmp.resolve("one")).run(null, (r, t, n) -> { }).history();
        }

        SparkSession spark = SparkSessions.open("local[2]", "polyv-spark-train-test");
        try {
            List<SparkTrainer.Step> two = SparkTrainer.train(spark, 2,
                    new SparkTrainer.Job(TINY_A.toString(), data.toString(), null, tmp.resolve("two").toString(), options, "cpu", null));
            assertEquals(3, two.size());
            for (int s = 0; s < 3; s++) {
                double a = one.get(s).total(), b = two.get(s).total();
                assertEquals(a, b, 1e-6 * Math.abs(a), "step " + (s + 1));
            }
            assertTrue(Files.isDirectory(tmp.resolve("two/checkpoints/step-00000002")));
            assertTrue(Files.isRegularFile(tmp.resolve("two/final/config.json")));
            assertTrue(Files.isRegularFile(tmp.resolve("two/loss.csv")));

            // resume from step 2 in another folder: the same step 3, bit for bit
            List<SparkTrainer.Step> resumed = SparkTrainer.train(spark, 2, new SparkTrainer.Job(TINY_A.toString(), data.toString(), null,
                    tmp.resolve("resumed").toString(), options, "cpu", tmp.resolve("two/checkpoints/step-00000002").toString()));
            assertEquals(3, resumed.size());
            assertEquals(two.get(2).total(), resumed.get(2).total(), 0);
        } finally {
            spark.stop();
        }
    }
}

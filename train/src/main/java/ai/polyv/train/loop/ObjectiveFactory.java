package ai.polyv.train.loop;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.train.TrainStage;
import ai.polyv.train.TrainingObjective;
import java.nio.file.Path;

/**
 * Builds the {@link TrainingObjective} that {@code polyv train} optimises: the model at {@code modelDir}
 * with the tensors {@code stage} selects as its trainable parameters (values loaded from the checkpoint,
 * F32), on the named backend ({@code cpu} or {@code cuda}).
 */
@FunctionalInterface
public interface ObjectiveFactory {
    TrainingObjective create(Path modelDir, PolyVConfig config, TrainStage stage, String backend);
}

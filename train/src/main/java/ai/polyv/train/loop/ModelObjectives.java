package ai.polyv.train.loop;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.train.PolyVObjective;
import ai.polyv.train.TrainStage;
import ai.polyv.train.TrainingObjective;
import java.nio.file.Path;

/**
 * The seam between the training pipeline and the model's gradients: {@link #POLYV} is the factory
 * {@code polyv train} uses; it opens the checkpoint and returns its {@link PolyVObjective}.
 */
public final class ModelObjectives {

    /** The factory {@code polyv train} uses. */
    public static final ObjectiveFactory POLYV = ModelObjectives::polyV;

    private ModelObjectives() {}

    static TrainingObjective polyV(Path modelDir, PolyVConfig config, TrainStage stage, String backend) {
        return PolyVObjective.open(modelDir, stage, backend);
    }
}

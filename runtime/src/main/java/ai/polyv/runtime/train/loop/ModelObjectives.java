package ai.polyv.runtime.train.loop;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.runtime.train.TrainStage;
import ai.polyv.runtime.train.TrainingObjective;
import java.nio.file.Path;

/**
 * The seam between the training pipeline and the model's gradients: {@link #POLYV} is the factory
 * {@code polyv train} uses. The autograd module provides {@code PolyVObjective}; wiring it in is the one
 * line in {@link #polyV}.
 */
public final class ModelObjectives {

    /** The factory {@code polyv train} uses. */
    public static final ObjectiveFactory POLYV = ModelObjectives::polyV;

    private ModelObjectives() {}

    static TrainingObjective polyV(Path modelDir, PolyVConfig config, TrainStage stage, String backend) {
        // MERGE SEAM: return new PolyVObjective(modelDir, config, stage, backend);
        throw new UnsupportedOperationException("the model objective is provided by the autograd module");
    }
}

package ai.polyv.train;

import ai.polyv.core.model.VisionInput;
import java.util.List;
import java.util.Objects;

/**
 * One training sample: a prompt with its vision inputs, next-token labels and optional teacher
 * features for its synergy tokens.
 *
 * @param inputIds        {@code [L]} ids, one placeholder per merged vision token
 * @param labels          {@code [L]} target ids, {@code -100} = ignored; logits at j predict labels[j+1]
 *                        (HF convention: labels are aligned with inputs and shifted inside the loss)
 * @param vision          vision inputs in prompt order
 * @param teacherTemporal {@code [synergyTokens, temporalDim]} row-major, or null (no temporal loss)
 * @param teacherSpatial  {@code [synergyTokens, spatialDim]} row-major, or null (no spatial loss)
 */
public record TrainExample(int[] inputIds, int[] labels, List<VisionInput> vision, float[] teacherTemporal,
                           float[] teacherSpatial) {
    public static final int IGNORE_INDEX = -100;

    public TrainExample {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        if (labels.length != inputIds.length) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries, input_ids " + inputIds.length);
        }
        vision = vision == null ? List.of() : List.copyOf(vision);
    }
}

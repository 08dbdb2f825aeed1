package ai.polyv.train.data;

import java.util.List;
import java.util.Objects;

/**
 * One row of a training Arrow file, as stored (images still encoded). See {@link TrainDataSchema}.
 *
 * @param inputIds        {@code [L]} prompt + answer ids, one placeholder per merged vision token
 * @param labels          {@code [L]} target ids aligned with {@code inputIds}, -100 = ignored
 * @param images          encoded PNG/JPEG images in prompt order (empty when none)
 * @param videos          videos in prompt order, each a list of encoded frames (empty when none)
 * @param videoFps        frame rate of the videos' frames (null when there are no videos)
 * @param teacherTemporal {@code [synergyTokens][temporalDim]} or null
 * @param teacherSpatial  {@code [synergyTokens][spatialDim]} or null
 */
public record TrainRow(int[] inputIds, int[] labels, List<byte[]> images, List<List<byte[]>> videos, Float videoFps,
                       float[][] teacherTemporal, float[][] teacherSpatial) {
    public TrainRow {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(labels, "labels");
        images = images == null ? List.of() : List.copyOf(images);
        videos = videos == null ? List.of() : videos.stream().map(List::copyOf).toList();
    }

    /** A text-only row. */
    public static TrainRow text(int[] inputIds, int[] labels) {
        return new TrainRow(inputIds, labels, List.of(), List.of(), null, null, null);
    }
}

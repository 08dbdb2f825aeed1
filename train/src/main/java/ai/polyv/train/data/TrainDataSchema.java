package ai.polyv.train.data;

import java.util.List;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The training-data Arrow IPC file format (file format, not stream), one sample per row:
 * <pre>
 *   input_ids        list&lt;int32&gt;              required  prompt + answer ids
 *   labels           list&lt;int32&gt;              required  same length; -100 = not a target
 *   images           list&lt;binary&gt;             optional  encoded PNG/JPEG, in prompt order
 *   videos           list&lt;list&lt;binary&gt;&gt;       optional  per video its encoded frames, in prompt order
 *   video_fps        float32                  optional  frame rate of the stored frames (needed with videos)
 *   teacher_temporal list&lt;list&lt;float32&gt;&gt;      optional  one row per synergy token, width = temporal out_size
 *   teacher_spatial  list&lt;list&lt;float32&gt;&gt;      optional  one row per synergy token, width = spatial out_size
 * </pre>
 * Optional columns may be absent from the file or null in a row. Placeholders: each image is
 * {@code <|vision_start|>}, one {@code <|image_pad|>} per merged token of its grid, {@code <|vision_end|>}
 * (video: {@code <|video_pad|>}), as at inference. Columns not listed are ignored.
 */
public final class TrainDataSchema {
    public static final String INPUT_IDS = "input_ids";
    public static final String LABELS = "labels";
    public static final String IMAGES = "images";
    public static final String VIDEOS = "videos";
    public static final String VIDEO_FPS = "video_fps";
    public static final String TEACHER_TEMPORAL = "teacher_temporal";
    public static final String TEACHER_SPATIAL = "teacher_spatial";

    static final ArrowType INT32 = new ArrowType.Int(32, true);
    static final ArrowType FLOAT32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);

    private TrainDataSchema() {}

    /** The full schema the writer produces. */
    public static Schema schema() {
        return new Schema(List.of(
                list(INPUT_IDS, false, leaf(INT32)),
                list(LABELS, false, leaf(INT32)),
                list(IMAGES, true, leaf(ArrowType.Binary.INSTANCE)),
                list(VIDEOS, true, list("item", false, leaf(ArrowType.Binary.INSTANCE))),
                new Field(VIDEO_FPS, FieldType.nullable(FLOAT32), null),
                list(TEACHER_TEMPORAL, true, list("item", false, leaf(FLOAT32))),
                list(TEACHER_SPATIAL, true, list("item", false, leaf(FLOAT32)))));
    }

    private static Field leaf(ArrowType type) {
        return new Field("item", FieldType.notNullable(type), null);
    }

    private static Field list(String name, boolean nullable, Field child) {
        FieldType t = nullable ? FieldType.nullable(ArrowType.List.INSTANCE) : FieldType.notNullable(ArrowType.List.INSTANCE);
        return new Field(name, t, List.of(child));
    }

    /** {@code list<int32>}-style description of a field's type, for error messages. */
    static String describe(Field f) {
        if (f.getType() instanceof ArrowType.List && f.getChildren().size() == 1) return "list<" + describe(f.getChildren().getFirst()) + ">";
        return switch (f.getType()) {
            case ArrowType.Int i -> (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
            case ArrowType.FloatingPoint fp -> fp.getPrecision() == FloatingPointPrecision.SINGLE ? "float32"
                    : fp.getPrecision() == FloatingPointPrecision.DOUBLE ? "float64" : "float16";
            case ArrowType.Binary b -> "binary";
            default -> f.getType().toString();
        };
    }
}

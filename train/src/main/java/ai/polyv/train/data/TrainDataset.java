package ai.polyv.train.data;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.SmartResize;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.TrainExample;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.SeekableReadChannel;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A training Arrow file ({@link TrainDataSchema}) read whole and validated against a model config
 * before training starts, so a bad row stops the run before any output is written. Rows keep their
 * images encoded; {@link #example(int)} decodes and preprocesses one row when the loop needs it.
 *
 * <p>Checks, per row (the error names the 0-based row and the field): {@code labels} has as many
 * entries as {@code input_ids}; ids are inside the vocabulary, labels are -100 or inside it, at least one
 * label or teacher row is a target; the prompt fits {@code max_position_embeddings}; each run of
 * {@code <|image_pad|>}/{@code <|video_pad|>} sits between {@code <|vision_start|>} and
 * {@code <|vision_end|>}; there are as many image (video) runs as images (videos); every image and frame
 * decodes, a video's frames share one size, and each run is as long as the merged-token count of its
 * input's grid after smart-resize; {@code video_fps} is positive when there are videos; each teacher
 * matrix has one row per synergy token, rows as wide as the config's head output, finite values.
 */
public final class TrainDataset {

    /** One vision input of a prompt, in prompt order: image or video {@code index} at {@code position}. */
    private record Segment(VisionInput.Kind kind, int index, int position, int length) {}

    private final Path file;
    private final PolyVConfig config;
    private final VisionPreprocessor preprocessor;
    private final List<TrainRow> rows;

    private TrainDataset(Path file, PolyVConfig config, VisionPreprocessor preprocessor, List<TrainRow> rows) {
        this.file = file;
        this.config = config;
        this.preprocessor = preprocessor;
        this.rows = rows;
    }

    /** Reads and validates every row; throws {@link TrainDataException} at the first bad one. */
    public static TrainDataset open(Path file, PolyVConfig config, VisionPreprocessor preprocessor) {
        List<TrainRow> rows = readRows(file);
        if (rows.isEmpty()) throw new TrainDataException(file.toString(), -1, null, "holds no rows");
        TrainDataset d = new TrainDataset(file, config, preprocessor, rows);
        for (int r = 0; r < rows.size(); r++) d.validate(r);
        return d;
    }

    public Path file() {
        return file;
    }

    public int size() {
        return rows.size();
    }

    public TrainRow row(int i) {
        return rows.get(i);
    }

    /** Sequence length of row {@code i}. */
    public int tokens(int i) {
        return rows.get(i).inputIds().length;
    }

    /** Row {@code i} as a training example: images decoded and preprocessed, in prompt order. */
    public TrainExample example(int i) {
        TrainRow row = rows.get(i);
        List<VisionInput> vision = new ArrayList<>();
        for (Segment s : segments(row.inputIds())) {
            if (s.kind() == VisionInput.Kind.IMAGE) {
                vision.add(preprocessor.image(decode(row.images().get(s.index()), i, TrainDataSchema.IMAGES, "image " + s.index())));
            } else {
                RgbFrames frames = videoFrames(row.videos().get(s.index()), i, s.index());
                vision.add(preprocessor.video(frames, VisionPreprocessor.TEMPORAL_PATCH / (double) row.videoFps()));
            }
        }
        return new TrainExample(row.inputIds(), row.labels(), vision, flatten(row.teacherTemporal()), flatten(row.teacherSpatial()));
    }

    // ---- reading ----

    /** Reads the rows of a training file without validating them against a config (schema only). */
    public static List<TrainRow> readRows(Path file) {
        String name = file.toString();
        if (!Files.isRegularFile(file)) throw new TrainDataException(name, -1, null, "no such file");
        List<TrainRow> out = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             ArrowFileReader reader = new ArrowFileReader(new SeekableReadChannel(ch), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            checkSchema(name, root.getSchema());
            long base = 0;
            while (reader.loadNextBatch()) {
                int n = root.getRowCount();
                for (int r = 0; r < n; r++) out.add(readRow(name, root, r, base + r));
                base += n;
            }
        } catch (IOException | org.apache.arrow.vector.ipc.InvalidArrowFileException e) {
            throw new TrainDataException(name, -1, null, "not a readable Arrow IPC file: " + e.getMessage());
        }
        return out;
    }

    private static void checkSchema(String file, Schema schema) {
        Schema expected = TrainDataSchema.schema();
        for (Field want : expected.getFields()) {
            Field have = schema.getFields().stream().filter(f -> f.getName().equals(want.getName())).findFirst().orElse(null);
            boolean required = want.getName().equals(TrainDataSchema.INPUT_IDS) || want.getName().equals(TrainDataSchema.LABELS);
            if (have == null) {
                if (required) throw new TrainDataException(file, -1, want.getName(), "missing column (expected " + TrainDataSchema.describe(want) + ")");
                continue;
            }
            String w = TrainDataSchema.describe(want), h = TrainDataSchema.describe(have);
            if (!w.equals(h)) throw new TrainDataException(file, -1, want.getName(), "expected " + w + ", found " + h);
        }
    }

    private static TrainRow readRow(String file, VectorSchemaRoot root, int r, long row) {
        int[] ids = ints(file, row, TrainDataSchema.INPUT_IDS, (ListVector) root.getVector(TrainDataSchema.INPUT_IDS), r);
        int[] labels = ints(file, row, TrainDataSchema.LABELS, (ListVector) root.getVector(TrainDataSchema.LABELS), r);
        List<byte[]> images = List.of();
        if (root.getVector(TrainDataSchema.IMAGES) instanceof ListVector lv && !lv.isNull(r)) {
            images = binaries(file, row, TrainDataSchema.IMAGES, lv, r);
        }
        List<List<byte[]>> videos = List.of();
        if (root.getVector(TrainDataSchema.VIDEOS) instanceof ListVector lv && !lv.isNull(r)) {
            ListVector frames = (ListVector) lv.getDataVector();
            List<List<byte[]>> vs = new ArrayList<>();
            for (int j = lv.getElementStartIndex(r); j < lv.getElementEndIndex(r); j++) {
                if (frames.isNull(j)) throw new TrainDataException(file, row, TrainDataSchema.VIDEOS, "video " + vs.size() + " is null");
                vs.add(binaries(file, row, TrainDataSchema.VIDEOS, frames, j));
            }
            videos = vs;
        }
        Float fps = null;
        if (root.getVector(TrainDataSchema.VIDEO_FPS) instanceof Float4Vector fv && !fv.isNull(r)) fps = fv.get(r);
        return new TrainRow(ids, labels, images, videos, fps,
                matrix(file, row, TrainDataSchema.TEACHER_TEMPORAL, root.getVector(TrainDataSchema.TEACHER_TEMPORAL), r),
                matrix(file, row, TrainDataSchema.TEACHER_SPATIAL, root.getVector(TrainDataSchema.TEACHER_SPATIAL), r));
    }

    private static int[] ints(String file, long row, String field, ListVector lv, int r) {
        if (lv.isNull(r)) throw new TrainDataException(file, row, field, "is null");
        IntVector data = (IntVector) lv.getDataVector();
        int s = lv.getElementStartIndex(r), e = lv.getElementEndIndex(r);
        int[] out = new int[e - s];
        for (int j = s; j < e; j++) {
            if (data.isNull(j)) throw new TrainDataException(file, row, field, "entry " + (j - s) + " is null");
            out[j - s] = data.get(j);
        }
        return out;
    }

    private static List<byte[]> binaries(String file, long row, String field, ListVector lv, int r) {
        VarBinaryVector data = (VarBinaryVector) lv.getDataVector();
        List<byte[]> out = new ArrayList<>();
        for (int j = lv.getElementStartIndex(r); j < lv.getElementEndIndex(r); j++) {
            if (data.isNull(j)) throw new TrainDataException(file, row, field, "entry " + out.size() + " is null");
            out.add(data.get(j));
        }
        return out;
    }

    private static float[][] matrix(String file, long row, String field, FieldVector v, int r) {
        if (!(v instanceof ListVector lv) || lv.isNull(r)) return null;
        ListVector inner = (ListVector) lv.getDataVector();
        Float4Vector data = (Float4Vector) inner.getDataVector();
        int s = lv.getElementStartIndex(r), e = lv.getElementEndIndex(r);
        float[][] out = new float[e - s][];
        for (int i = s; i < e; i++) {
            if (inner.isNull(i)) throw new TrainDataException(file, row, field, "teacher row " + (i - s) + " is null");
            int a = inner.getElementStartIndex(i), b = inner.getElementEndIndex(i);
            float[] rowValues = new float[b - a];
            for (int j = a; j < b; j++) {
                if (data.isNull(j)) throw new TrainDataException(file, row, field, "teacher row " + (i - s) + " entry " + (j - a) + " is null");
                rowValues[j - a] = data.get(j);
            }
            out[i - s] = rowValues;
        }
        return out;
    }

    // ---- validation ----

    private TrainDataException bad(int row, String field, String problem) {
        return new TrainDataException(file.toString(), row, field, problem);
    }

    private void validate(int r) {
        TrainRow row = rows.get(r);
        int[] ids = row.inputIds();
        int[] labels = row.labels();
        int vocab = config.text().vocabSize();
        if (ids.length == 0) throw bad(r, TrainDataSchema.INPUT_IDS, "is empty");
        if (labels.length != ids.length) {
            throw bad(r, TrainDataSchema.LABELS, "has " + labels.length + " entries, input_ids has " + ids.length);
        }
        int context = config.text().maxPositionEmbeddings();
        if (ids.length > context) {
            throw bad(r, TrainDataSchema.INPUT_IDS, ids.length + " tokens exceed the model's context (max_position_embeddings " + context + ")");
        }
        int targets = 0;
        for (int j = 0; j < ids.length; j++) {
            if (ids[j] < 0 || ids[j] >= vocab) {
                throw bad(r, TrainDataSchema.INPUT_IDS, "entry " + j + " = " + ids[j] + " is outside the vocabulary [0, " + vocab + ")");
            }
            int l = labels[j];
            if (l != TrainExample.IGNORE_INDEX && (l < 0 || l >= vocab)) {
                throw bad(r, TrainDataSchema.LABELS, "entry " + j + " = " + l + " is neither -100 nor inside the vocabulary [0, " + vocab + ")");
            }
            if (l != TrainExample.IGNORE_INDEX && j > 0) targets++;
        }
        List<Segment> segments = segments(ids);
        int imageRuns = 0, videoRuns = 0;
        for (Segment s : segments) {
            if (s.position() == 0 || ids[s.position() - 1] != config.tokens().visionStartTokenId()
                    || s.position() + s.length() >= ids.length || ids[s.position() + s.length()] != config.tokens().visionEndTokenId()) {
                throw bad(r, TrainDataSchema.INPUT_IDS, "the " + (s.kind() == VisionInput.Kind.IMAGE ? "<|image_pad|>" : "<|video_pad|>")
                        + " run at position " + s.position() + " (" + s.length() + " tokens) is not enclosed in <|vision_start|> ... <|vision_end|>");
            }
            if (s.kind() == VisionInput.Kind.IMAGE) imageRuns++;
            else videoRuns++;
        }
        if (imageRuns != row.images().size()) {
            throw bad(r, TrainDataSchema.IMAGES, "has " + row.images().size() + " images, input_ids has " + imageRuns + " <|image_pad|> runs");
        }
        if (videoRuns != row.videos().size()) {
            throw bad(r, TrainDataSchema.VIDEOS, "has " + row.videos().size() + " videos, input_ids has " + videoRuns + " <|video_pad|> runs");
        }
        if (!row.videos().isEmpty() && (row.videoFps() == null || !(row.videoFps() > 0) || row.videoFps().isInfinite())) {
            throw bad(r, TrainDataSchema.VIDEO_FPS, "must be a positive frame rate when the row has videos, found " + row.videoFps());
        }
        for (Segment s : segments) {
            int merged;
            String what;
            if (s.kind() == VisionInput.Kind.IMAGE) {
                RgbFrames img = decode(row.images().get(s.index()), r, TrainDataSchema.IMAGES, "image " + s.index());
                merged = mergedTokens(1, img.height(), img.width());
                what = "image " + s.index() + " (" + img.width() + "x" + img.height() + ")";
            } else {
                List<byte[]> frames = row.videos().get(s.index());
                if (frames.isEmpty()) throw bad(r, TrainDataSchema.VIDEOS, "video " + s.index() + " has no frames");
                RgbFrames v = videoFrames(frames, r, s.index());
                merged = mergedTokens((v.frames() + 1) / VisionPreprocessor.TEMPORAL_PATCH, v.height(), v.width());
                what = "video " + s.index() + " (" + v.frames() + " frames of " + v.width() + "x" + v.height() + ")";
            }
            if (merged != s.length()) {
                throw bad(r, s.kind() == VisionInput.Kind.IMAGE ? TrainDataSchema.IMAGES : TrainDataSchema.VIDEOS,
                        what + " has " + merged + " merged vision tokens, but its placeholder run at position " + s.position()
                                + " has " + s.length());
            }
        }
        int synergy = 0;
        if (config.synergy() != null) {
            for (int id : ids) if (id == config.synergy().tokenId()) synergy++;
        }
        int teacherRows = 0;
        teacherRows += checkTeacher(r, TrainDataSchema.TEACHER_TEMPORAL, row.teacherTemporal(), synergy,
                config.synergy() == null ? -1 : config.synergy().temporal().outSize());
        teacherRows += checkTeacher(r, TrainDataSchema.TEACHER_SPATIAL, row.teacherSpatial(), synergy,
                config.synergy() == null ? -1 : config.synergy().spatial().outSize());
        if (targets == 0 && teacherRows == 0) {
            throw bad(r, TrainDataSchema.LABELS, "no target: every label after the first is -100 and the row has no teacher features");
        }
    }

    private int checkTeacher(int r, String field, float[][] m, int synergyTokens, int width) {
        if (m == null) return 0;
        if (width < 0) throw bad(r, field, "the model config has no synergy heads, so teacher features cannot be used");
        if (m.length != synergyTokens) {
            throw bad(r, field, "has " + m.length + " rows, input_ids has " + synergyTokens + " synergy tokens (id " + config.synergy().tokenId() + ")");
        }
        for (int i = 0; i < m.length; i++) {
            if (m[i].length != width) throw bad(r, field, "row " + i + " has " + m[i].length + " values, the head's out_size is " + width);
            for (int j = 0; j < width; j++) {
                if (!Float.isFinite(m[i][j])) throw bad(r, field, "row " + i + " entry " + j + " is " + m[i][j]);
            }
        }
        return m.length;
    }

    private int mergedTokens(int t, int height, int width) {
        SmartResize.Size s = SmartResize.compute(height, width, SmartResize.FACTOR, preprocessor.options().minPixels(),
                preprocessor.options().maxPixels());
        int gh = s.height() / VisionPreprocessor.PATCH, gw = s.width() / VisionPreprocessor.PATCH;
        return new VisionInput.GridThw(t, gh, gw).mergedTokens(VisionPreprocessor.MERGE);
    }

    /** Maximal runs of image/video placeholders, in prompt order. */
    private List<Segment> segments(int[] ids) {
        int image = config.tokens().imageTokenId(), video = config.tokens().videoTokenId();
        List<Segment> out = new ArrayList<>();
        int images = 0, videos = 0;
        for (int j = 0; j < ids.length; ) {
            if (ids[j] == image || ids[j] == video) {
                int id = ids[j], s = j;
                while (j < ids.length && ids[j] == id) j++;
                boolean isImage = id == image;
                out.add(new Segment(isImage ? VisionInput.Kind.IMAGE : VisionInput.Kind.VIDEO, isImage ? images++ : videos++, s, j - s));
            } else {
                j++;
            }
        }
        return out;
    }

    private RgbFrames decode(byte[] bytes, int row, String field, String what) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw bad(row, field, what + " cannot be decoded: " + e.getMessage());
        }
        if (img == null) throw bad(row, field, what + " is not a decodable PNG or JPEG (" + bytes.length + " bytes)");
        return ImageFiles.fromImage(img);
    }

    private RgbFrames videoFrames(List<byte[]> frames, int row, int video) {
        List<RgbFrames> decoded = new ArrayList<>();
        for (int f = 0; f < frames.size(); f++) {
            RgbFrames fr = decode(frames.get(f), row, TrainDataSchema.VIDEOS, "video " + video + " frame " + f);
            if (!decoded.isEmpty() && (fr.height() != decoded.getFirst().height() || fr.width() != decoded.getFirst().width())) {
                throw bad(row, TrainDataSchema.VIDEOS, "video " + video + " frame " + f + " is " + fr.width() + "x" + fr.height()
                        + ", frame 0 is " + decoded.getFirst().width() + "x" + decoded.getFirst().height());
            }
            decoded.add(fr);
        }
        return RgbFrames.stack(decoded);
    }

    private static float[] flatten(float[][] m) {
        if (m == null) return null;
        int w = m.length == 0 ? 0 : m[0].length;
        float[] out = new float[m.length * w];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, out, i * w, w);
        return out;
    }
}

package ai.polyv.train.data;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.TrainExample;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Rows for the golden tiny-a config: vocab 2048, image 2000, video 2001, start 1998, end 1999, synergy 2002, heads 64 / 48. */
class TrainDataTest {
    static final Path TINY_A = SharedData.golden("tiny-a");
    static final PolyVConfig CONFIG = PolyVConfig.load(TINY_A);
    static final int IM = 2000, VID = 2001, VS = 1998, VE = 1999, SYN = 2002, X = -100;

    @TempDir
    Path tmp;

    static byte[] png(int w, int h, int shade) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (shade << 16) | ((x * 4) << 8) | (y * 4));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    static float[][] teacher(int rows, int width, float base) {
        float[][] m = new float[rows][width];
        for (int i = 0; i < rows; i++) for (int j = 0; j < width; j++) m[i][j] = base + i + j / 100f;
        return m;
    }

    /** Image (56x56: 4x4 patches = 4 merged tokens) + 2 synergy tokens with teachers. */
    static TrainRow imageRow() {
        int[] ids = {1988, 5, VS, IM, IM, IM, IM, VE, SYN, SYN, 7, 8, 1989};
        int[] labels = {X, X, X, X, X, X, X, X, X, X, 7, 8, 1989};
        return new TrainRow(ids, labels, List.of(png(56, 56, 200)), List.of(), null, teacher(2, 64, 0.5f), teacher(2, 48, -1f));
    }

    /** Video of 4 frames 56x56 (2 temporal steps x 4 = 8 merged tokens) then an image. */
    static TrainRow videoRow() {
        int[] ids = new int[] {1988, VS, VID, VID, VID, VID, VID, VID, VID, VID, VE, VS, IM, IM, IM, IM, VE, 9, 10};
        int[] labels = new int[ids.length];
        Arrays.fill(labels, X);
        labels[17] = 9;
        labels[18] = 10;
        List<byte[]> frames = List.of(png(56, 56, 10), png(56, 56, 60), png(56, 56, 110), png(56, 56, 160));
        return new TrainRow(ids, labels, List.of(png(56, 56, 250)), List.of(frames), 2f, null, null);
    }

    @Test
    void roundTripAndExamples() {
        Path f = tmp.resolve("d.arrow");
        List<TrainRow> rows = new ArrayList<>();
        for (int i = 0; i < 70; i++) rows.add(i % 3 == 1 ? videoRow() : i % 3 == 2 ? TrainRow.text(new int[] {1, 2, i}, new int[] {X, 2, i}) : imageRow());
        TrainDataWriter.write(f, rows); // 70 rows: two record batches
        List<TrainRow> back = TrainDataset.readRows(f);
        assertEquals(70, back.size());
        for (int i = 0; i < rows.size(); i++) {
            TrainRow a = rows.get(i), b = back.get(i);
            assertArrayEquals(a.inputIds(), b.inputIds(), "row " + i);
            assertArrayEquals(a.labels(), b.labels(), "row " + i);
            assertEquals(a.images().size(), b.images().size());
            for (int k = 0; k < a.images().size(); k++) assertArrayEquals(a.images().get(k), b.images().get(k));
            assertEquals(a.videos().size(), b.videos().size());
            for (int k = 0; k < a.videos().size(); k++) {
                for (int j = 0; j < a.videos().get(k).size(); j++) assertArrayEquals(a.videos().get(k).get(j), b.videos().get(k).get(j));
            }
            assertEquals(a.videoFps(), b.videoFps());
            assertArrayEquals(a.teacherTemporal(), b.teacherTemporal());
            assertArrayEquals(a.teacherSpatial(), b.teacherSpatial());
        }
        TrainDataset d = TrainDataset.open(f, CONFIG, new VisionPreprocessor());
        TrainExample e0 = d.example(0);
        assertEquals(1, e0.vision().size());
        assertEquals(new VisionInput.GridThw(1, 4, 4), e0.vision().getFirst().grid());
        assertEquals(16 * VisionPreprocessor.ROW, e0.vision().getFirst().pixelValues().length);
        assertEquals(128, e0.teacherTemporal().length);
        assertEquals(1.51f, e0.teacherTemporal()[65]); // row 1, column 1: 0.5 + 1 + 0.01
        assertEquals(96, e0.teacherSpatial().length);
        TrainExample e1 = d.example(1); // video first, then the image: prompt order
        assertEquals(VisionInput.Kind.VIDEO, e1.vision().get(0).kind());
        assertEquals(new VisionInput.GridThw(2, 4, 4), e1.vision().get(0).grid());
        assertEquals(1.0, e1.vision().get(0).secondsPerGrid()); // 2 frames per grid step at 2 fps
        assertEquals(VisionInput.Kind.IMAGE, e1.vision().get(1).kind());
        assertNull(e1.teacherTemporal());
        assertEquals(0, d.example(2).vision().size());
        assertEquals(19, d.tokens(1));
    }

    static Stream<Arguments> badRows() {
        return Stream.of(
                bad("labels", "has 12 entries, input_ids has 13", r -> new TrainRow(r.inputIds(), Arrays.copyOf(r.labels(), 12), r.images(),
                        r.videos(), r.videoFps(), r.teacherTemporal(), r.teacherSpatial())),
                bad("input_ids", "entry 1 = 2048 is outside the vocabulary [0, 2048)", r -> withIds(r, 1, 2048)),
                bad("input_ids", "entry 0 = -3 is outside the vocabulary [0, 2048)", r -> withIds(r, 0, -3)),
                bad("labels", "entry 11 = 5000 is neither -100 nor inside the vocabulary [0, 2048)", r -> withLabel(r, 11, 5000)),
                bad("input_ids", "is empty", r -> TrainRow.text(new int[0], new int[0])),
                bad("labels", "no target: every label after the first is -100 and the row has no teacher features",
                        r -> TrainRow.text(new int[] {1, 2, 3}, new int[] {4, X, X})),
                bad("images", "image 0 is not a decodable PNG or JPEG (4 bytes)", r -> withImages(r, List.of(new byte[] {1, 2, 3, 4}))),
                bad("images", "has 0 images, input_ids has 1 <|image_pad|> runs", r -> withImages(r, List.of())),
                bad("images", "image 0 (112x56) has 8 merged vision tokens, but its placeholder run at position 3 has 4",
                        r -> withImages(r, List.of(png(112, 56, 0)))),
                bad("input_ids", "the <|image_pad|> run at position 3 (4 tokens) is not enclosed in <|vision_start|> ... <|vision_end|>",
                        r -> withIds(r, 7, 5)),
                bad("teacher_temporal", "has 1 rows, input_ids has 2 synergy tokens (id 2002)",
                        r -> new TrainRow(r.inputIds(), r.labels(), r.images(), r.videos(), r.videoFps(), teacher(1, 64, 0), r.teacherSpatial())),
                bad("teacher_spatial", "row 0 has 64 values, the head's out_size is 48",
                        r -> new TrainRow(r.inputIds(), r.labels(), r.images(), r.videos(), r.videoFps(), r.teacherTemporal(), teacher(2, 64, 0))),
                bad("teacher_temporal", "row 0 entry 3 is NaN", r -> {
                    float[][] t = teacher(2, 64, 0);
                    t[0][3] = Float.NaN;
                    return new TrainRow(r.inputIds(), r.labels(), r.images(), r.videos(), r.videoFps(), t, r.teacherSpatial());
                }),
                bad("video_fps", "must be a positive frame rate when the row has videos, found null", r -> {
                    TrainRow v = videoRow();
                    return new TrainRow(v.inputIds(), v.labels(), v.images(), v.videos(), null, null, null);
                }),
                bad("videos", "video 0 frame 2 is 28x56, frame 0 is 56x56", r -> {
                    TrainRow v = videoRow();
                    List<byte[]> frames = new ArrayList<>(v.videos().getFirst());
                    frames.set(2, png(28, 56, 0));
                    return new TrainRow(v.inputIds(), v.labels(), v.images(), List.of(frames), 2f, null, null);
                }),
                bad("videos", "video 0 (6 frames of 56x56) has 12 merged vision tokens, but its placeholder run at position 2 has 8", r -> {
                    TrainRow v = videoRow();
                    List<byte[]> frames = new ArrayList<>(v.videos().getFirst());
                    frames.add(png(56, 56, 1));
                    frames.add(png(56, 56, 2));
                    return new TrainRow(v.inputIds(), v.labels(), v.images(), List.of(frames), 2f, null, null);
                }),
                bad("videos", "has 0 videos, input_ids has 1 <|video_pad|> runs", r -> {
                    TrainRow v = videoRow();
                    return new TrainRow(v.inputIds(), v.labels(), v.images(), List.of(), 2f, null, null);
                }));
    }

    private static Arguments bad(String field, String problem, UnaryOperator<TrainRow> breakIt) {
        return Arguments.of(field, problem, breakIt);
    }

    private static TrainRow withIds(TrainRow r, int at, int id) {
        int[] ids = r.inputIds().clone();
        ids[at] = id;
        return new TrainRow(ids, r.labels(), r.images(), r.videos(), r.videoFps(), r.teacherTemporal(), r.teacherSpatial());
    }

    private static TrainRow withLabel(TrainRow r, int at, int id) {
        int[] l = r.labels().clone();
        l[at] = id;
        return new TrainRow(r.inputIds(), l, r.images(), r.videos(), r.videoFps(), r.teacherTemporal(), r.teacherSpatial());
    }

    private static TrainRow withImages(TrainRow r, List<byte[]> images) {
        return new TrainRow(r.inputIds(), r.labels(), images, r.videos(), r.videoFps(), r.teacherTemporal(), r.teacherSpatial());
    }

    /** Two good rows, then the broken one: the error names row 2, the field and the problem. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("badRows")
    void badRowNamesRowAndField(String field, String problem, UnaryOperator<TrainRow> breakIt) {
        Path f = tmp.resolve("bad.arrow");
        TrainDataWriter.write(f, List.of(imageRow(), videoRow(), breakIt.apply(imageRow()), imageRow()));
        TrainDataException e = assertThrows(TrainDataException.class, () -> TrainDataset.open(f, CONFIG, new VisionPreprocessor()));
        assertEquals(f + ": row 2: field \"" + field + "\": " + problem, e.getMessage());
        assertEquals(2, e.row());
        assertEquals(field, e.field());
    }

    @Test
    void notAnArrowFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("x.arrow");
        java.nio.file.Files.writeString(f, "not arrow at all");
        TrainDataException e = assertThrows(TrainDataException.class, () -> TrainDataset.readRows(f));
        assertEquals(-1, e.row());
        assertEquals(true, e.getMessage().startsWith(f + ": not a readable Arrow IPC file"), e.getMessage());
        assertEquals(dir.resolve("none.arrow") + ": no such file",
                assertThrows(TrainDataException.class, () -> TrainDataset.readRows(dir.resolve("none.arrow"))).getMessage());
    }
}

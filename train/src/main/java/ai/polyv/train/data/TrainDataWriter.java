package ai.polyv.train.data;

import ai.polyv.loader.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

/**
 * Writes training rows as an Arrow IPC file ({@link TrainDataSchema}) atomically: into a temp file in the
 * same folder, fsynced, then renamed over the target, so a reader never sees a half-written file. Rows
 * go out in record batches of {@value #BATCH_ROWS}.
 */
public final class TrainDataWriter {
    public static final int BATCH_ROWS = 64;

    private TrainDataWriter() {}

    public static void write(Path file, List<TrainRow> rows) {
        try (BufferAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(TrainDataSchema.schema(), allocator)) {
            AtomicFiles.write(file, ch -> {
                try (ArrowFileWriter writer = new ArrowFileWriter(root, null, new KeepOpen(ch))) {
                    writer.start();
                    for (int from = 0; from < rows.size(); from += BATCH_ROWS) {
                        fill(root, rows.subList(from, Math.min(rows.size(), from + BATCH_ROWS)));
                        writer.writeBatch();
                    }
                    writer.end();
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write training data " + file + ": " + e.getMessage(), e);
        }
    }

    private static void fill(VectorSchemaRoot root, List<TrainRow> batch) {
        root.allocateNew();
        ListVector ids = (ListVector) root.getVector(TrainDataSchema.INPUT_IDS);
        ListVector labels = (ListVector) root.getVector(TrainDataSchema.LABELS);
        ListVector images = (ListVector) root.getVector(TrainDataSchema.IMAGES);
        ListVector videos = (ListVector) root.getVector(TrainDataSchema.VIDEOS);
        Float4Vector fps = (Float4Vector) root.getVector(TrainDataSchema.VIDEO_FPS);
        ListVector temporal = (ListVector) root.getVector(TrainDataSchema.TEACHER_TEMPORAL);
        ListVector spatial = (ListVector) root.getVector(TrainDataSchema.TEACHER_SPATIAL);
        for (int r = 0; r < batch.size(); r++) {
            TrainRow row = batch.get(r);
            ints(ids, r, row.inputIds());
            ints(labels, r, row.labels());
            if (row.images().isEmpty()) images.setNull(r);
            else binaries(images, r, row.images());
            if (row.videos().isEmpty()) {
                videos.setNull(r);
            } else {
                ListVector frames = (ListVector) videos.getDataVector();
                int start = videos.startNewValue(r);
                for (int v = 0; v < row.videos().size(); v++) binaries(frames, start + v, row.videos().get(v));
                videos.endValue(r, row.videos().size());
            }
            if (row.videoFps() == null) fps.setNull(r);
            else fps.setSafe(r, row.videoFps());
            matrix(temporal, r, row.teacherTemporal());
            matrix(spatial, r, row.teacherSpatial());
        }
        root.setRowCount(batch.size());
    }

    private static void ints(ListVector list, int row, int[] values) {
        IntVector data = (IntVector) list.getDataVector();
        int start = list.startNewValue(row);
        for (int i = 0; i < values.length; i++) data.setSafe(start + i, values[i]);
        list.endValue(row, values.length);
    }

    private static void binaries(ListVector list, int row, List<byte[]> values) {
        VarBinaryVector data = (VarBinaryVector) list.getDataVector();
        int start = list.startNewValue(row);
        for (int i = 0; i < values.size(); i++) data.setSafe(start + i, values.get(i));
        list.endValue(row, values.size());
    }

    private static void matrix(ListVector list, int row, float[][] rows) {
        if (rows == null) {
            list.setNull(row);
            return;
        }
        ListVector inner = (ListVector) list.getDataVector();
        Float4Vector data = (Float4Vector) inner.getDataVector();
        int start = list.startNewValue(row);
        for (int i = 0; i < rows.length; i++) {
            int s = inner.startNewValue(start + i);
            for (int j = 0; j < rows[i].length; j++) data.setSafe(s + j, rows[i][j]);
            inner.endValue(start + i, rows[i].length);
        }
        list.endValue(row, rows.length);
    }

    /** The Arrow writer closes its channel; the atomic writer still has to fsync it. */
    private record KeepOpen(FileChannel ch) implements WritableByteChannel {
        @Override
        public int write(ByteBuffer src) throws IOException {
            return ch.write(src);
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() {}
    }
}

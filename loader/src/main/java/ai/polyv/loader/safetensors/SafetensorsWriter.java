package ai.polyv.loader.safetensors;

import ai.polyv.loader.util.AtomicFiles;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes safetensors files the way the reference (Rust {@code safetensors}) implementation does, so a file
 * we write from the tensors of a reference-written file is byte-identical to it:
 * <ul>
 *   <li>data order: by dtype, larger element types first (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL:
 *       the reference's dtype order, descending), then by name; every tensor therefore starts at a multiple
 *       of its element size, and the data are contiguous in that order;</li>
 *   <li>header: compact JSON, {@code __metadata__} first (omitted when empty), then the tensors in data
 *       order, padded with spaces to a multiple of 8 bytes;</li>
 *   <li>the file is written to a temp file in the same folder, fsynced and atomically renamed.</li>
 * </ul>
 *
 * <p><b>Streaming.</b> Every tensor is a {@link TensorSource}: dtype and shape are given up front (the header
 * goes first), and the bytes are pulled from {@link TensorSource#writeTo(TensorOutput)} one tensor at a time
 * through a 1 MiB buffer, so a multi-GB checkpoint never sits in heap. {@link TensorData} is the in-memory
 * form (heap arrays, native segments, or zero-copy slices of another open file via
 * {@link TensorData#of(TensorView)}); a custom source can convert or generate data on the fly. The
 * writer checks that each source produced exactly its byte size.
 *
 * <pre>{@code
 * SafetensorsWriter.write(path, Map.of("w", TensorData.f32(new long[] {2, 2}, 1, 2, 3, 4)), Map.of("format", "pt"));
 * }</pre>
 */
public final class SafetensorsWriter {
    /** Order of the reference implementation's dtype enum, descending (largest elements first). */
    private static final List<DType> DATA_ORDER = List.of(DType.I64, DType.F64, DType.F32, DType.I32, DType.BF16,
            DType.F16, DType.I16, DType.I8, DType.U8, DType.BOOL);
    private static final int BUFFER = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * Writes one safetensors file atomically.
     *
     * @param tensors  name to data (any map; the file order is the reference order above)
     * @param metadata {@code __metadata__} string pairs, or null/empty for none
     * @throws SafetensorsException naming the file (and tensor) on any failure; the target is then untouched
     */
    public static void write(Path file, Map<String, ? extends TensorSource> tensors, Map<String, String> metadata) {
        List<Planned> plan = plan(tensors, file.toString());
        byte[] header = header(plan, metadata, file.toString());
        try {
            AtomicFiles.write(file, ch -> {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                try (Output out = new Output(ch)) {
                    for (Planned p : plan) {
                        long before = out.count;
                        p.source.writeTo(out);
                        out.flush();
                        long produced = out.count - before;
                        if (produced != p.bytes) {
                            throw new SafetensorsException(String.format(Locale.ROOT,
                                    "%s: tensor \"%s\": source produced %d bytes, %s %s needs %d", file, p.name,
                                    produced, p.dtype, Arrays.toString(p.shape), p.bytes));
                        }
                    }
                }
            });
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot write: " + e, e);
        }
    }

    /** In-memory convenience with no metadata. */
    public static void write(Path file, Map<String, ? extends TensorSource> tensors) {
        write(file, tensors, Map.of());
    }

    /**
     * Writes a sharded checkpoint into {@code dir} like the hub does: {@code model-0000i-of-0000N.safetensors}
     * files of at most {@code maxShardBytes} of data each (a larger tensor gets a shard of its own), filled in
     * name order, and {@value Checkpoint#INDEX_NAME} with {@code metadata.total_size} and the
     * {@code weight_map}. With a single shard, writes {@value Checkpoint#SINGLE_NAME} and no index.
     */
    public static void writeSharded(Path dir, Map<String, ? extends TensorSource> tensors, Map<String, String> metadata,
                                    long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<Map<String, TensorSource>> shards = new ArrayList<>();
        Map<String, TensorSource> current = new TreeMap<>();
        long size = 0;
        long total = 0;
        for (Map.Entry<String, ? extends TensorSource> e : new TreeMap<String, TensorSource>(tensors).entrySet()) {
            long bytes = plannedBytes(e.getKey(), e.getValue(), dir.toString());
            if (!current.isEmpty() && size + bytes > maxShardBytes) {
                shards.add(current);
                current = new TreeMap<>();
                size = 0;
            }
            current.put(e.getKey(), e.getValue());
            size += bytes;
            total += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(current);
        }
        if (shards.size() == 1) {
            write(dir.resolve(Checkpoint.SINGLE_NAME), shards.getFirst(), metadata);
            return;
        }
        ObjectNode index = JsonNodeFactory.instance.objectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode weightMap = index.putObject("weight_map");
        Map<String, String> map = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(dir.resolve(name), shards.get(i), metadata);
            for (String t : shards.get(i).keySet()) {
                map.put(t, name);
            }
        }
        map.forEach(weightMap::put);
        try {
            AtomicFiles.writeString(dir.resolve(Checkpoint.INDEX_NAME),
                    SafetensorsHeader.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
        } catch (IOException e) {
            throw new SafetensorsException(dir.resolve(Checkpoint.INDEX_NAME) + ": cannot write: " + e, e);
        }
    }

    private record Planned(String name, DType dtype, long[] shape, long bytes, TensorSource source) {
    }

    private static long plannedBytes(String name, TensorSource s, String file) {
        if (name == null || name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new SafetensorsException(file + ": \"" + name + "\" cannot be a tensor name");
        }
        try {
            return TensorView.byteSize(TensorView.numel(s.shape(), name), s.dtype(), name);
        } catch (SafetensorsException e) {
            throw new SafetensorsException(file + ": " + e.getMessage());
        }
    }

    private static List<Planned> plan(Map<String, ? extends TensorSource> tensors, String file) {
        List<Planned> plan = new ArrayList<>();
        for (Map.Entry<String, ? extends TensorSource> e : tensors.entrySet()) {
            TensorSource s = e.getValue();
            plan.add(new Planned(e.getKey(), s.dtype(), s.shape(), plannedBytes(e.getKey(), s, file), s));
        }
        plan.sort(Comparator.comparingInt((Planned p) -> DATA_ORDER.indexOf(p.dtype)).thenComparing(Planned::name));
        return plan;
    }

    private static byte[] header(List<Planned> plan, Map<String, String> metadata, String file) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            root.put(SafetensorsHeader.METADATA_KEY, new TreeMap<>(metadata));
        }
        long offset = 0;
        for (Planned p : plan) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", p.dtype.safetensorsName());
            info.put("shape", p.shape);
            info.put("data_offsets", new long[] {offset, offset + p.bytes});
            root.put(p.name, info);
            offset += p.bytes;
        }
        byte[] json;
        try {
            json = SafetensorsHeader.JSON.writeValueAsBytes(root);
        } catch (JacksonException e) {
            throw new SafetensorsException(file + ": cannot serialise header: " + e.getOriginalMessage(), e);
        }
        int padded = (json.length + 7) / 8 * 8;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new SafetensorsException(file + ": header would be " + padded + " bytes, over the "
                    + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit");
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Buffered, counting {@link TensorOutput} over the file channel. */
    private static final class Output implements TensorOutput, AutoCloseable {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        private final MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
        long count;

        Output(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public void write(MemorySegment bytes) throws IOException {
            long n = bytes.byteSize();
            if (n >= BUFFER) {
                flush();
                for (long off = 0; off < n; off += 1L << 30) {
                    writeFully(ch, bytes.asSlice(off, Math.min(1L << 30, n - off)).asByteBuffer());
                }
                count += n;
                return;
            }
            if (buf.position() + n > BUFFER) {
                flush();
            }
            MemorySegment.copy(bytes, 0, bufSeg, buf.position(), n);
            buf.position(buf.position() + (int) n);
            count += n;
        }

        @Override
        public void writeFloats(DType dtype, float[] values, int offset, int length) throws IOException {
            int size = dtype.byteSize();
            if (!dtype.isFloatingPoint()) {
                throw new SafetensorsException("writeFloats needs a floating-point dtype, found " + dtype);
            }
            int done = 0;
            while (done < length) {
                if (BUFFER - buf.position() < size) {
                    flush();
                }
                int n = Math.min(length - done, (BUFFER - buf.position()) / size);
                Encoding.encodeFloats(dtype, values, offset + done, n, bufSeg, buf.position());
                buf.position(buf.position() + n * size);
                count += (long) n * size;
                done += n;
            }
        }

        void flush() throws IOException {
            buf.flip();
            writeFully(ch, buf);
            buf.clear();
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}

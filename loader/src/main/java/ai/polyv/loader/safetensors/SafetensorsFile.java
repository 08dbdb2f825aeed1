package ai.polyv.loader.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One safetensors file, memory-mapped once ({@code FileChannel.map(READ_ONLY, 0, size, arena)}) into its own
 * shared {@link Arena}. Opening parses and validates the header ({@link SafetensorsHeader}) and builds the
 * tensor map; no tensor data is read. Tensors are zero-copy {@link TensorView} slices of the mapping.
 * {@link #close()} closes the arena, which unmaps the file; use try-with-resources.
 *
 * <p>File layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data region.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final long headerLength;
    private final long fileSize;
    private final SafetensorsHeader header;
    private final Map<String, TensorView> tensors;   // sorted by name

    private SafetensorsFile(Path path, Arena arena, long headerLength, long fileSize, SafetensorsHeader header,
                            Map<String, TensorView> tensors) {
        this.path = path;
        this.arena = arena;
        this.headerLength = headerLength;
        this.fileSize = fileSize;
        this.header = header;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws SafetensorsException naming the file for any I/O problem or malformed content
     */
    public static SafetensorsFile open(Path file) {
        String source = file.toString();
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try {
            MemorySegment map;
            long size;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                size = ch.size();
                if (size < 8) {
                    throw new SafetensorsException(String.format(Locale.ROOT,
                            "%s: file is %d bytes, too short for the 8-byte header length", source, size));
                }
                map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException e) {
                throw new SafetensorsException(source + ": cannot read: " + e, e);
            }
            long n = map.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n < 0 || n > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: header length %s is larger than the %d-byte limit", source,
                        Long.toUnsignedString(n), SafetensorsHeader.MAX_HEADER_BYTES));
            }
            if (n > size - 8) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: header length %d is larger than the file after the length field (%d bytes)",
                        source, n, size - 8));
            }
            byte[] json = map.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            long dataStart = 8 + n;
            SafetensorsHeader header = SafetensorsHeader.parse(json, size - dataStart, source);
            Map<String, TensorView> tensors = new TreeMap<>();
            for (SafetensorsHeader.Entry e : header.entries().values()) {
                MemorySegment slice = map.asSlice(dataStart + e.begin(), e.byteSize());
                tensors.put(e.name(), new TensorView(e.name(), e.dtype(), e.shape(), slice));
            }
            SafetensorsFile f = new SafetensorsFile(file, arena, n, size, header, tensors);
            ok = true;
            return f;
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Tensor names, sorted. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** @throws SafetensorsException naming the file if there is no such tensor */
    public TensorView tensor(String name) {
        TensorView t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor named \"" + name + "\" (file has "
                    + tensors.size() + " tensors)");
        }
        return t;
    }

    /** All tensors by name (sorted). */
    public Map<String, TensorView> tensors() {
        return tensors;
    }

    /** The header's {@code __metadata__} (empty if absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Header entries with their data offsets, in data order. */
    public Map<String, SafetensorsHeader.Entry> entries() {
        return header.entries();
    }

    /** Length N of the JSON header (the data region starts at 8 + N). */
    public long headerLength() {
        return headerLength;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Unmaps the file; every {@link TensorView} of it becomes unusable. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}

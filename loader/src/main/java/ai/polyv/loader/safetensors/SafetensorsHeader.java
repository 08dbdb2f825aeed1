package ai.polyv.loader.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parser and validator of a safetensors JSON header. Checks everything the reference (Rust safetensors)
 * implementation checks, and reports each problem as a {@link SafetensorsException} naming the source,
 * the tensor and the field:
 * <ul>
 *   <li>strict UTF-8, valid JSON, a top-level object, no duplicate keys, nothing after the object;</li>
 *   <li>{@code __metadata__}: an object of string values (or null);</li>
 *   <li>each tensor: an object with a known {@code dtype}, a {@code shape} of non-negative integers whose
 *       product (times the dtype size) does not overflow, {@code data_offsets} of two integers
 *       {@code begin <= end} with {@code end - begin == numel * dtype size};</li>
 *   <li>the tensors, sorted by offset, tile the data region exactly: no gap, no overlap, nothing after the
 *       last one.</li>
 * </ul>
 */
public final class SafetensorsHeader {
    /** Largest header accepted (the Rust implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** One tensor entry of the header; offsets are relative to the start of the data region. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteSize() {
            return end - begin;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                    && begin == e.begin && end == e.end;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
        }
    }

    private final Map<String, Entry> entries;     // in data order
    private final Map<String, String> metadata;

    private SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Entries in data order (ascending offsets). */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Parses and validates a header.
     *
     * @param headerBytes the JSON bytes (between the 8-byte length and the data region)
     * @param dataSize    bytes in the data region (file size - 8 - header length)
     * @param source      the file name, used in every error message
     */
    public static SafetensorsHeader parse(byte[] headerBytes, long dataSize, String source) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(source + ": header is not valid UTF-8 (" + e.getMessage() + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new SafetensorsException(source + ": header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(source + ": header must be a JSON object, found "
                    + (root == null ? "nothing" : root.getNodeType()));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                parseMetadata(node, source, metadata);
            } else {
                list.add(parseEntry(name, node, source));
            }
        }
        list.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        String previous = null;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Entry e : list) {
            if (e.begin() != expected) {
                String where = previous == null ? "the start of the data region (offset 0)" : "tensor \"" + previous + "\"";
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: tensor \"%s\": field \"data_offsets\": %s the data of %s: expected begin %d, found %d",
                        source, e.name(), e.begin() < expected ? "overlaps" : "leaves a gap after", where,
                        expected, e.begin()));
            }
            expected = e.end();
            previous = e.name();
            entries.put(e.name(), e);
        }
        if (expected != dataSize) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "%s: tensors cover %d bytes of data but the data region after the header is %d bytes%s",
                    source, expected, dataSize, expected > dataSize ? " (file truncated?)" : " (trailing bytes)"));
        }
        return new SafetensorsHeader(entries, metadata);
    }

    private static void parseMetadata(JsonNode node, String source, Map<String, String> out) {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new SafetensorsException(source + ": \"__metadata__\" must be an object of strings, found "
                    + node.getNodeType());
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: \"__metadata__\" field \"%s\": expected a string, found %s",
                        source, m.getKey(), m.getValue().getNodeType()));
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Entry parseEntry(String name, JsonNode node, String source) {
        String where = source + ": tensor \"" + name + "\"";
        if (!node.isObject()) {
            throw new SafetensorsException(where + ": expected an object with dtype, shape, data_offsets, found "
                    + node.getNodeType());
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new SafetensorsException(where + ": field \"dtype\": expected a string, found " + describe(dt));
        }
        DType dtype;
        try {
            dtype = DType.parse(dt.textValue());
        } catch (SafetensorsException e) {
            throw new SafetensorsException(where + ": field \"dtype\": " + e.getMessage());
        }
        long[] shape = longArray(node.get("shape"), where, "shape", -1);
        long[] offsets = longArray(node.get("data_offsets"), where, "data_offsets", 2);
        long numel;
        long bytes;
        try {
            numel = TensorView.numel(shape, name);
            bytes = TensorView.byteSize(numel, dtype, name);
        } catch (SafetensorsException e) {
            throw new SafetensorsException(source + ": " + e.getMessage());
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "%s: field \"data_offsets\": begin %d is after end %d", where, begin, end));
        }
        if (end - begin != bytes) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "%s: field \"data_offsets\": %s %s needs %d bytes, offsets [%d, %d] span %d",
                    where, dtype, Arrays.toString(shape), bytes, begin, end, end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longArray(JsonNode node, String where, String field, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw new SafetensorsException(where + ": field \"" + field + "\": expected an array of integers, found "
                    + describe(node));
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new SafetensorsException(String.format(Locale.ROOT,
                    "%s: field \"%s\": expected %d integers, found %d", where, field, requiredLength, node.size()));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: field \"%s\"[%d]: expected a non-negative 64-bit integer, found %s",
                        where, field, i, v));
            }
            out[i] = v.longValue();
            if (out[i] < 0) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: field \"%s\"[%d]: expected a non-negative integer, found %d", where, field, i, out[i]));
            }
        }
        return out;
    }

    private static String describe(JsonNode n) {
        return n == null ? "nothing (missing)" : n.getNodeType() + " " + abbreviate(n.toString());
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}

package ai.polyv.loader.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each malformed-file case fails with a {@link SafetensorsException} naming the file, tensor and field. */
class SafetensorsValidationTest {
    @TempDir
    Path tmp;

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A file with the given header length field, header bytes and data length. */
    static byte[] raw(long headerLength, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header);
        return b.array();
    }

    static byte[] raw(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, dataBytes);
    }

    private void rejects(byte[] content, String... fragments) throws IOException {
        Path p = file("bad.safetensors", content);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                f.names();
            }
        });
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }

    private static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void acceptsAValidHandWrittenFile() throws IOException {
        Path p = file("ok.safetensors", raw("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "U8", "[3]", 8, 11) + "}", 11));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(2, f.names().size());
        }
    }

    @Test
    void rejectsBadLengthsAndEncodings() throws IOException {
        rejects(new byte[5], "5 bytes", "too short");
        rejects(raw(1000, "{}".getBytes(StandardCharsets.UTF_8), 0), "header length 1000", "larger than the file");
        rejects(raw(200_000_000L, new byte[0], 0), "header length 200000000", "100000000-byte limit");
        rejects(raw(-1L, new byte[0], 0), "header length 18446744073709551615", "limit");
        rejects(raw(4, new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'}, 0), "not valid UTF-8");
        rejects(raw("{\"a\":", 0), "not valid JSON");
        rejects(raw("[1,2]", 0), "must be a JSON object", "ARRAY");
        rejects(raw("{} {}", 0), "not valid JSON");
        rejects(raw("", 0), "must be a JSON object");
    }

    @Test
    void rejectsBadTensorEntries() throws IOException {
        rejects(raw("{" + t("w", "Q4_K", "[2]", 0, 8) + "}", 8), "tensor \"w\"", "field \"dtype\"", "unknown dtype \"Q4_K\"", "F64, F32");
        rejects(raw("{" + t("w", "F32", "[4294967296,4294967296]", 0, 8) + "}", 8), "tensor \"w\"", "shape", "overflows");
        rejects(raw("{" + t("w", "F64", "[1152921504606846976]", 0, 8) + "}", 8), "tensor \"w\"", "overflows");
        rejects(raw("{" + t("w", "F32", "[2,-3]", 0, 8) + "}", 8), "tensor \"w\"", "field \"shape\"[1]", "non-negative", "-3");
        rejects(raw("{" + t("w", "F32", "[2,1.5]", 0, 8) + "}", 8), "tensor \"w\"", "field \"shape\"[1]", "1.5");
        rejects(raw("{" + t("w", "F32", "[99999999999999999999]", 0, 8) + "}", 8), "tensor \"w\"", "field \"shape\"[0]");
        rejects(raw("{" + t("w", "F32", "[3]", 0, 8) + "}", 8), "tensor \"w\"", "data_offsets", "F32 [3] needs 12 bytes", "span 8");
        rejects(raw("{" + t("w", "F32", "[0]", 8, 0) + "}", 8), "tensor \"w\"", "begin 8 is after end 0");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8), "tensor \"w\"", "data_offsets", "expected 2 integers, found 1");
        rejects(raw("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "tensor \"w\"", "field \"dtype\"", "missing");
        rejects(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8), "tensor \"w\"", "field \"shape\"", "NUMBER");
        rejects(raw("{\"w\":[1,2]}", 8), "tensor \"w\"", "expected an object");
        rejects(raw("{\"__metadata__\":{\"format\":1}}", 0), "__metadata__", "\"format\"", "expected a string");
        rejects(raw("{\"__metadata__\":[]}", 0), "__metadata__", "ARRAY");
        rejects(raw("{" + t("w", "F32", "[2]", 0, 8) + "," + t("w", "F32", "[2]", 0, 8) + "}", 8), "Duplicate field 'w'");
    }

    @Test
    void rejectsBadLayouts() throws IOException {
        // out of range: end beyond the data region
        rejects(raw("{" + t("w", "F32", "[4]", 0, 16) + "}", 8), "cover 16 bytes", "data region after the header is 8 bytes",
                "truncated");
        // trailing bytes after the last tensor
        rejects(raw("{" + t("w", "F32", "[2]", 0, 8) + "}", 12), "cover 8 bytes", "12 bytes", "trailing");
        // overlap
        rejects(raw("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}", 12),
                "tensor \"b\"", "overlaps the data of tensor \"a\"", "expected begin 8, found 4");
        // gap
        rejects(raw("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 12, 20) + "}", 20),
                "tensor \"b\"", "gap after the data of tensor \"a\"", "expected begin 8, found 12");
        // first tensor not at 0
        rejects(raw("{" + t("a", "F32", "[2]", 4, 12) + "}", 12), "tensor \"a\"", "start of the data region");
        // huge offsets that would overflow if added naively
        rejects(raw("{" + t("a", "U8", "[1]", Long.MAX_VALUE - 1, Long.MAX_VALUE) + "}", 1), "tensor \"a\"", "expected begin 0");
    }

    @Test
    void dtypeParseNamesTheInput() {
        assertEquals(DType.BF16, DType.parse("BF16"));
        assertEquals(2, DType.parse("F16").byteSize());
        assertEquals(8, DType.I64.byteSize());
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> DType.parse("bf16"));
        assertTrue(e.getMessage().contains("\"bf16\""));
    }

    // ------------------------------------------------------------------ checkpoints

    private Path shardedCheckpoint() {
        Map<String, TensorData> in = new TreeMap<>();
        for (int i = 0; i < 4; i++) {
            in.put("t" + i, TensorData.f32(new long[] {25}, new float[25]));
        }
        Path dir = tmp.resolve("ckpt");
        SafetensorsWriter.writeSharded(dir, in, Map.of(), 200);
        return dir;
    }

    private static void rejectsCheckpoint(Path dir, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (Checkpoint c = Checkpoint.open(dir)) {
                c.names();
            }
        });
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
        }
    }

    @Test
    void rejectsMissingShard() throws IOException {
        Path dir = shardedCheckpoint();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        rejectsCheckpoint(dir, Checkpoint.INDEX_NAME, "shard \"model-00002-of-00002.safetensors\"", "holding 2 tensors", "missing");
    }

    @Test
    void rejectsIndexNamingTensorsAbsentFromTheShard() throws IOException {
        Path dir = shardedCheckpoint();
        Path index = dir.resolve(Checkpoint.INDEX_NAME);
        String json = Files.readString(index);
        Files.writeString(index, json.replace("\"t3\" : \"model-00002-of-00002.safetensors\"",
                "\"t3\" : \"model-00001-of-00002.safetensors\""));
        rejectsCheckpoint(dir, "tensor \"t3\" is mapped to shard \"model-00001-of-00002.safetensors\", which does not contain it");
        Files.writeString(index, json.replace("\"t3\" : \"model-00002-of-00002.safetensors\"",
                "\"t3\" : \"model-00002-of-00002.safetensors\",\n    \"t9\" : \"model-00002-of-00002.safetensors\""));
        rejectsCheckpoint(dir, "tensor \"t9\"", "does not contain it");
        Files.writeString(index, json.replace(",\n    \"t3\" : \"model-00002-of-00002.safetensors\"", ""));
        rejectsCheckpoint(dir, "shard \"model-00002-of-00002.safetensors\" holds tensor \"t3\", which the index does not list");
        Files.writeString(index, json.replace("\"t3\" : \"model-00002-of-00002.safetensors\"", "\"t3\" : \"../x.safetensors\""));
        rejectsCheckpoint(dir, "plain file name", "../x.safetensors");
        Files.writeString(index, "{\"metadata\": {}}");
        rejectsCheckpoint(dir, "field \"weight_map\"", "missing");
        Files.writeString(index, "{\"weight_map\": {\"t0\": 3}}");
        rejectsCheckpoint(dir, "weight_map[\"t0\"]", "NUMBER");
        Files.writeString(index, "{\"weight_map\": {\"t0\": \"a\", \"t0\": \"b\"}}");
        rejectsCheckpoint(dir, "Duplicate field 't0'");
        Files.writeString(index, "{");
        rejectsCheckpoint(dir, "not valid JSON");
    }

    @Test
    void rejectsAmbiguousOrEmptyFolders() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        rejectsCheckpoint(empty, "exactly one *.safetensors", "none");
        Path two = Files.createDirectory(tmp.resolve("two"));
        SafetensorsWriter.write(two.resolve("a.safetensors"), Map.of("x", TensorData.f32(new long[] {1}, 1f)));
        SafetensorsWriter.write(two.resolve("b.safetensors"), Map.of("x", TensorData.f32(new long[] {1}, 1f)));
        rejectsCheckpoint(two, "a.safetensors", "b.safetensors");
        Files.delete(two.resolve("b.safetensors"));
        try (Checkpoint c = Checkpoint.open(two)) {
            assertEquals(1f, c.tensor("x").toFloatArray()[0]);
        }
        rejectsCheckpoint(tmp.resolve("nope"), "no such file or folder");
        rejectsCheckpoint(Path.of("/dev/null"), "/dev/null is neither a regular file nor a folder");
    }
}

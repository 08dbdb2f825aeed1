package ai.polyv.loader.safetensors;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path tmp;

    /** One tensor of every dtype with awkward values (extremes, negative zero, NaN bits, odd sizes). */
    static Map<String, TensorData> everyDtype() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("f64", new TensorData(DType.F64, new long[] {3}, MemorySegment.ofArray(new double[] {1.5, -0.0, Double.MAX_VALUE})));
        m.put("f32", TensorData.f32(new long[] {2, 3}, 1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 3.25f));
        m.put("f16", TensorData.fromFloats(DType.F16, new long[] {5}, new float[] {1f, -2f, 65504f, 0.000061035156f, 0.1f}));
        m.put("bf16", TensorData.fromFloats(DType.BF16, new long[] {1, 5}, new float[] {1f, -2f, 3.0e38f, 1.0e-38f, 0.1f}));
        m.put("i64", TensorData.i64(new long[] {3}, Long.MIN_VALUE, -1, Long.MAX_VALUE));
        m.put("i32", TensorData.i32(new long[] {3}, Integer.MIN_VALUE, 7, Integer.MAX_VALUE));
        m.put("i16", TensorData.fromLongs(DType.I16, new long[] {3}, new long[] {Short.MIN_VALUE, 0, Short.MAX_VALUE}));
        m.put("i8", TensorData.fromLongs(DType.I8, new long[] {3}, new long[] {-128, 5, 127}));
        m.put("u8", TensorData.fromLongs(DType.U8, new long[] {7}, new long[] {0, 1, 2, 128, 200, 254, 255}));
        m.put("bool", TensorData.fromLongs(DType.BOOL, new long[] {2, 2}, new long[] {1, 0, 0, 1}));
        m.put("scalar", TensorData.f32(new long[] {}, 42f));
        m.put("empty", TensorData.f32(new long[] {0, 4}, new float[0]));
        return m;
    }

    @Test
    void roundTripsEveryDtype() {
        Path f = tmp.resolve("all.safetensors");
        Map<String, TensorData> in = everyDtype();
        SafetensorsWriter.write(f, in, Map.of("format", "pt", "note", "every dtype"));
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertEquals(in.keySet(), new java.util.HashSet<>(sf.names()));
            assertEquals(Map.of("format", "pt", "note", "every dtype"), sf.metadata());
            for (Map.Entry<String, TensorData> e : in.entrySet()) {
                TensorView v = sf.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), v.dtype(), e.getKey());
                assertArrayEquals(e.getValue().shape(), v.shape(), e.getKey());
                assertEquals(-1, e.getValue().bytes().mismatch(v.data()), e.getKey());
                assertEquals(e.getValue(), TensorData.of(v), e.getKey());
            }
            assertArrayEquals(new float[] {1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 3.25f}, sf.tensor("f32").toFloatArray());
            assertArrayEquals(new float[] {1.5f, -0f, Float.POSITIVE_INFINITY}, sf.tensor("f64").toFloatArray());
            // F16 and BF16 hold the round-to-nearest-even values (reference: numpy astype(float16), bf16 RNE)
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0.000061035156f, 0.099975586f}, sf.tensor("f16").toFloatArray());
            assertArrayEquals(new float[] {1f, -2f, 3.0040553e38f, 1.0010069e-38f, 0.100097656f}, sf.tensor("bf16").toFloatArray());
            assertArrayEquals(new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE}, sf.tensor("i64").toLongArray());
            assertThrows(SafetensorsException.class, () -> sf.tensor("i64").toIntArray());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 7, Integer.MAX_VALUE}, sf.tensor("i32").toIntArray());
            assertArrayEquals(new int[] {Short.MIN_VALUE, 0, Short.MAX_VALUE}, sf.tensor("i16").toIntArray());
            assertArrayEquals(new int[] {-128, 5, 127}, sf.tensor("i8").toIntArray());
            assertArrayEquals(new int[] {0, 1, 2, 128, 200, 254, 255}, sf.tensor("u8").toIntArray());
            assertArrayEquals(new float[] {0, 1, 2, 128, 200, 254, 255}, sf.tensor("u8").toFloatArray());
            assertArrayEquals(new long[] {1, 0, 0, 1}, sf.tensor("bool").toLongArray());
            assertArrayEquals(new float[] {42f}, sf.tensor("scalar").toFloatArray());
            assertEquals(1, sf.tensor("scalar").numel());
            assertEquals(0, sf.tensor("empty").numel());
            assertContiguousAndAligned(sf);
        }
    }

    /** Data offsets tile the data region in the reference order, each tensor aligned to its element size. */
    static void assertContiguousAndAligned(SafetensorsFile sf) {
        long expected = 0;
        for (SafetensorsHeader.Entry e : sf.entries().values()) {
            assertEquals(expected, e.begin(), e.name());
            assertEquals(0, e.begin() % e.dtype().byteSize(), e.name() + " aligned");
            expected = e.end();
        }
        assertEquals(sf.fileSize(), 8 + sf.headerLength() + expected);
        assertEquals(0, sf.headerLength() % 8);
    }

    @Test
    void headerIsPaddedWithSpacesAndDataIsInReferenceOrder() throws IOException {
        Path f = tmp.resolve("order.safetensors");
        Map<String, TensorData> in = new TreeMap<>();
        in.put("a", TensorData.fromLongs(DType.U8, new long[] {3}, new long[] {1, 2, 3}));
        in.put("b", TensorData.f32(new long[] {1}, 1f));
        in.put("c", TensorData.i64(new long[] {1}, 9));
        in.put("d", TensorData.f32(new long[] {2}, 1f, 2f));
        SafetensorsWriter.write(f, in, Map.of());
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = "{\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"d\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[20,23]}}";
        assertEquals(json + " ".repeat((8 - json.length() % 8) % 8), header);
        assertEquals(8 + n + 23, bytes.length);
    }

    /** Our writer reproduces files written by the reference Rust implementation byte for byte. */
    @Test
    void reproducesReferenceFilesByteForByte() throws IOException {
        for (Path ref : List.of(SharedData.golden("tiny-a").resolve("model.safetensors"),
                SharedData.golden("tiny-a").resolve("golden.safetensors"),
                SharedData.golden("tiny-c").resolve("model-00004-of-00004.safetensors"))) {
            Path out = tmp.resolve("copy.safetensors");
            try (SafetensorsFile sf = SafetensorsFile.open(ref)) {
                Map<String, TensorData> t = new TreeMap<>();
                sf.tensors().forEach((k, v) -> t.put(k, TensorData.of(v)));
                SafetensorsWriter.write(out, t, sf.metadata());
            }
            assertEquals(-1, Files.mismatch(ref, out), ref.toString());
        }
    }

    /** A streaming source: 3,000,000 floats generated in chunks, never as one array; converted to BF16. */
    @Test
    void streamsLargeTensorsFromASource() {
        long n = 3_000_000;
        TensorSource gen = new TensorSource() {
            @Override
            public DType dtype() {
                return DType.BF16;
            }

            @Override
            public long[] shape() {
                return new long[] {3000, 1000};
            }

            @Override
            public void writeTo(TensorOutput out) throws IOException {
                float[] chunk = new float[4096];
                for (long start = 0; start < n; start += chunk.length) {
                    int len = (int) Math.min(chunk.length, n - start);
                    for (int i = 0; i < len; i++) {
                        chunk[i] = (start + i) % 251;
                    }
                    out.writeFloats(DType.BF16, chunk, 0, len);
                }
            }
        };
        Path f = tmp.resolve("stream.safetensors");
        SafetensorsWriter.write(f, Map.of("big", gen, "small", TensorData.f32(new long[] {1}, 5f)), null);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            TensorView big = sf.tensor("big");
            assertEquals(n * 2, big.byteSize());
            for (long i : new long[] {0, 1, 250, 251, 4095, 4096, 1_234_567, n - 1}) {
                assertEquals((float) (i % 251), big.floatAt(i), "element " + i);
            }
            assertTrue(sf.metadata().isEmpty());
            assertContiguousAndAligned(sf);
        }
    }

    @Test
    void wrongByteCountFailsAndLeavesTargetUntouched() throws IOException {
        Path f = tmp.resolve("keep.safetensors");
        SafetensorsWriter.write(f, Map.of("x", TensorData.f32(new long[] {1}, 1f)));
        byte[] before = Files.readAllBytes(f);
        TensorSource liar = new TensorSource() {
            @Override
            public DType dtype() {
                return DType.F32;
            }

            @Override
            public long[] shape() {
                return new long[] {4};
            }

            @Override
            public void writeTo(TensorOutput out) throws IOException {
                out.writeFloats(DType.F32, new float[] {1, 2, 3}, 0, 3);
            }
        };
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsWriter.write(f, Map.of("liar", liar)));
        assertTrue(e.getMessage().contains("\"liar\"") && e.getMessage().contains("12 bytes") && e.getMessage().contains("16"),
                e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(f), s.toList(), "no temp file left behind");
        }
        assertThrows(SafetensorsException.class, () -> SafetensorsWriter.write(f,
                Map.of("__metadata__", TensorData.f32(new long[] {1}, 1f))));
        assertThrows(SafetensorsException.class, () -> TensorData.f32(new long[] {2, 2}, 1f, 2f, 3f));
        assertThrows(SafetensorsException.class, () -> TensorData.fromLongs(DType.U8, new long[] {1}, new long[] {256}));
    }

    @Test
    void writesShardedCheckpointsThatLoad() throws IOException {
        Map<String, TensorData> in = new TreeMap<>();
        for (int i = 0; i < 10; i++) {
            float[] v = new float[100];
            java.util.Arrays.fill(v, i);
            in.put("model.layers." + i + ".w", TensorData.f32(new long[] {10, 10}, v));
        }
        Path dir = tmp.resolve("ckpt");
        SafetensorsWriter.writeSharded(dir, in, Map.of("format", "pt"), 1000);
        assertTrue(Files.exists(dir.resolve(Checkpoint.INDEX_NAME)));
        assertTrue(Files.exists(dir.resolve("model-00005-of-00005.safetensors")));
        assertFalse(Files.exists(dir.resolve("model-00006-of-00006.safetensors")));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(in.keySet(), c.names());
            assertEquals(5, c.files().size());
            assertEquals("4000", c.metadata().get("total_size"));
            for (int i = 0; i < 10; i++) {
                assertEquals((float) i, c.tensor("model.layers." + i + ".w").toFloatArray()[99]);
            }
        }
        Path single = tmp.resolve("single");
        SafetensorsWriter.writeSharded(single, in, Map.of(), 1L << 30);
        try (Checkpoint c = Checkpoint.open(single)) {
            assertEquals(1, c.files().size());
            assertEquals(in.keySet(), c.names());
        }
        assertFalse(Files.exists(single.resolve(Checkpoint.INDEX_NAME)));
    }
}

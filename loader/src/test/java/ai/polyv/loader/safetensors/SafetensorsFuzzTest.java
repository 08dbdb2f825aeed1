package ai.polyv.loader.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid files (bit flips, byte overwrites, truncation, extension, header text edits, length field
 * edits) and checks that every mutant either opens and reads all tensors without error, or fails with
 * {@link SafetensorsException}: never another exception, never a JVM crash or out-of-bounds read.
 */
class SafetensorsFuzzTest {
    private static final int CASES = 12_000;
    private static final List<String> TOKENS = List.of("F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8",
            "BOOL", "F8_E4M3", "0", "-1", "1.5", "1e3", "18446744073709551616", "9223372036854775807", "[]", "{}",
            "null", "\"", ",", ":", "[", "]", "{", "}", "\\u0000", "\\ud800", "__metadata__", "dtype", "shape",
            "data_offsets", " ", "\u00e9", "4294967296");

    @TempDir
    Path tmp;

    static byte[] base(Path dir, String name, Map<String, TensorData> tensors, Map<String, String> meta) throws IOException {
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, tensors, meta);
        return Files.readAllBytes(p);
    }

    @Test
    void everyMutantLoadsCorrectlyOrFailsWithTheLoadersError() throws IOException {
        Map<String, TensorData> small = new TreeMap<>();
        small.put("a", TensorData.f32(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
        small.put("b", TensorData.fromLongs(DType.U8, new long[] {5}, new long[] {1, 2, 3, 4, 5}));
        small.put("c", TensorData.i64(new long[] {1}, 7));
        List<byte[]> bases = List.of(
                base(tmp, "all.safetensors", SafetensorsWriterTest.everyDtype(), Map.of("format", "pt")),
                base(tmp, "small.safetensors", small, Map.of()));
        Random rnd = new Random(20261122L);
        Path target = tmp.resolve("mutant.safetensors");
        int loaded = 0;
        int rejected = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] src = bases.get(i % bases.size());
            byte[] m = mutate(src, rnd);
            Files.write(target, m);
            try (SafetensorsFile f = SafetensorsFile.open(target)) {
                readEverything(f);
                loaded++;
            } catch (SafetensorsException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
                rejected++;
            } catch (Throwable t) {
                fail("case " + i + ": " + t + "\nmutant header: " + headerPreview(m), t);
            }
        }
        assertEquals(CASES, loaded + rejected);
        System.out.printf("fuzz: %d cases, %d loaded, %d rejected%n", CASES, loaded, rejected);
        assertTrue(loaded > 100 && rejected > 1000, "loaded " + loaded + ", rejected " + rejected);
    }

    /** Reads every tensor every way, and checks the layout invariants of a file that opened. */
    private static void readEverything(SafetensorsFile f) {
        long expected = 0;
        for (SafetensorsHeader.Entry e : f.entries().values()) {
            assertEquals(expected, e.begin());
            expected = e.end();
        }
        assertEquals(f.fileSize(), 8 + f.headerLength() + expected);
        for (String name : f.names()) {
            TensorView t = f.tensor(name);
            assertEquals(t.numel() * t.dtype().byteSize(), t.data().byteSize());
            float[] v = t.toFloatArray();
            assertEquals(t.numel(), v.length);
            if (t.dtype().isInteger()) {
                assertEquals(t.numel(), t.toLongArray().length);
            }
            assertEquals(t.byteSize(), t.toByteArray().length);
        }
        f.metadata().forEach((k, val) -> assertTrue(k != null && val != null));
    }

    static byte[] mutate(byte[] src, Random rnd) {
        long n = ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int headerEnd = (int) (8 + n);
        byte[] m = src.clone();
        int kind = rnd.nextInt(9);
        switch (kind) {
            case 0, 1 -> { // bit flips, mostly in the length field and header
                int flips = 1 + rnd.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    int pos = rnd.nextInt(4) == 0 ? rnd.nextInt(m.length) : rnd.nextInt(headerEnd);
                    m[pos] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 2 -> { // random byte overwrite in the header
                m[8 + rnd.nextInt(headerEnd - 8)] = (byte) rnd.nextInt(256);
            }
            case 3 -> { // truncation
                m = Arrays.copyOf(m, rnd.nextInt(m.length));
            }
            case 4 -> { // extension with random bytes
                byte[] e = Arrays.copyOf(m, m.length + 1 + rnd.nextInt(64));
                for (int k = m.length; k < e.length; k++) {
                    e[k] = (byte) rnd.nextInt(256);
                }
                m = e;
            }
            case 5 -> { // header length field edits
                long[] choices = {n + 1, n - 1, n + 8, n - 8, 0, src.length, src.length - 7L, Long.MAX_VALUE, -1,
                        100_000_001L, rnd.nextLong()};
                ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(0, choices[rnd.nextInt(choices.length)]);
            }
            default -> { // header text edits: replace a digit, a token, delete or insert; keep the length field right
                String h = new String(src, 8, (int) n, StandardCharsets.ISO_8859_1);
                int pos = rnd.nextInt(h.length());
                String edited = switch (kind) {
                    case 6 -> {
                        int d = indexOfDigitFrom(h, pos);
                        yield d < 0 ? h : h.substring(0, d) + (char) ('0' + rnd.nextInt(10)) + h.substring(d + 1);
                    }
                    case 7 -> {
                        int end = Math.min(h.length(), pos + 1 + rnd.nextInt(6));
                        yield h.substring(0, pos) + TOKENS.get(rnd.nextInt(TOKENS.size())) + h.substring(end);
                    }
                    default -> h.substring(0, pos) + h.substring(Math.min(h.length(), pos + 1 + rnd.nextInt(3)));
                };
                byte[] hb = edited.getBytes(rnd.nextBoolean() ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
                ByteBuffer b = ByteBuffer.allocate(8 + hb.length + src.length - headerEnd).order(ByteOrder.LITTLE_ENDIAN);
                b.putLong(hb.length).put(hb).put(src, headerEnd, src.length - headerEnd);
                m = b.array();
            }
        }
        return m;
    }

    private static int indexOfDigitFrom(String s, int from) {
        for (int i = 0; i < s.length(); i++) {
            int j = (from + i) % s.length();
            if (Character.isDigit(s.charAt(j))) {
                return j;
            }
        }
        return -1;
    }

    private static String headerPreview(byte[] m) {
        int len = Math.min(m.length, 300);
        return new String(m, 0, len, StandardCharsets.ISO_8859_1);
    }
}

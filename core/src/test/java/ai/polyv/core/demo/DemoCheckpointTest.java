package ai.polyv.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCheckpointTest {

    @TempDir
    Path tmp;

    @Test
    void createdOnceThenReusedAndRecreatedWhenDamaged() throws IOException {
        Path dir = tmp.resolve("cache").resolve("demo-v" + DemoWeights.VERSION);
        DemoCheckpoint.Prepared first = DemoCheckpoint.prepare(dir, null);
        assertEquals(DemoCheckpoint.Origin.CREATED, first.origin());
        assertNull(DemoCheckpoint.problem(dir));
        // nothing but the checkpoint folder is left in the cache folder (the temp folder was renamed)
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(List.of(dir.getFileName().toString()), s.map(p -> p.getFileName().toString()).toList());
        }
        // contents: the demo config for the bundled tokenizer, tensors as specified, values = spec rounded to BF16
        Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
        assertEquals(151669, tok.vocabSize());
        PolyVConfig config = PolyVConfig.load(dir);
        assertEquals(DemoWeights.config(151669, List.of(151643, 151645)), config);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(DemoWeights.tensors(config).size(), ck.names().size());
            for (String name : new String[] {"visual.blocks.1.attn.qkv.weight", "model.layers.3.mlp.experts.2.up_proj.weight", "model.norm.weight"}) {
                DemoWeights.TensorSpec spec = DemoWeights.tensors(config).stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
                TensorView v = ck.tensor(name);
                float[] want = spec.values();
                for (int i = 0; i < want.length; i++) want[i] = bf16(want[i]);
                assertArrayEquals(want, v.toFloatArray(), name);
            }
        }

        FileTime written = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        DemoCheckpoint.Prepared again = DemoCheckpoint.prepare(dir, null);
        assertEquals(DemoCheckpoint.Origin.CACHED, again.origin());
        assertEquals(written, Files.getLastModifiedTime(dir.resolve("model.safetensors")));

        // flip one byte of the weights: the checksum catches it and the folder is written again
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            long at = f.length() - 1000;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        String problem = DemoCheckpoint.problem(dir);
        assertTrue(problem != null && problem.contains("checksum"), problem);
        DemoCheckpoint.Prepared redone = DemoCheckpoint.prepare(dir, null);
        assertEquals(DemoCheckpoint.Origin.RECREATED, redone.origin());
        assertTrue(redone.replacedBecause().contains("checksum"), redone.replacedBecause());
        assertNull(DemoCheckpoint.problem(dir));
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(1, s.count(), "the damaged folder was removed");
        }
    }

    @Test
    void twoProcessesCreatingAtOnceEndWithOneValidFolder() throws Exception {
        Path dir = tmp.resolve("race").resolve("demo-v" + DemoWeights.VERSION);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var a = pool.submit(() -> DemoCheckpoint.prepare(dir, null));
            var b = pool.submit(() -> DemoCheckpoint.prepare(dir, null));
            List<DemoCheckpoint.Origin> origins = List.of(a.get().origin(), b.get().origin());
            assertTrue(origins.contains(DemoCheckpoint.Origin.CREATED), origins.toString());
        }
        assertNull(DemoCheckpoint.problem(dir));
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(List.of(dir.getFileName().toString()), s.map(p -> p.getFileName().toString()).toList(), "no temp folder left");
        }
    }

    /** Only a demo checkpoint (or an empty folder) is deleted to make one: a file or another folder is left as it was. */
    @Test
    void somethingElseAtThePathIsNotReplaced() throws IOException {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "keep me");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoCheckpoint.prepare(file, null));
        assertEquals("demo checkpoint folder " + file + " is not a directory (it is a file): not replacing it (use another --cache DIR)", e.getMessage());
        assertEquals("keep me", Files.readString(file));

        Path folder = Files.createDirectories(tmp.resolve("photos"));
        Files.writeString(folder.resolve("a.jpg"), "jpeg");
        e = assertThrows(IllegalArgumentException.class, () -> DemoCheckpoint.prepare(folder, null));
        assertEquals("demo checkpoint folder " + folder + " holds files but no " + DemoCheckpoint.MARKER
                + ": it is not a demo checkpoint, not replacing it (use another --cache DIR)", e.getMessage());
        assertEquals("jpeg", Files.readString(folder.resolve("a.jpg")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("notes.txt", "photos"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no temp folder left");
        }
    }

    @Test
    void problemsAreNamed() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        assertEquals("no " + DemoCheckpoint.MARKER, DemoCheckpoint.problem(dir));
        Files.writeString(dir.resolve(DemoCheckpoint.MARKER), "{\"version\": \"0\"}");
        assertEquals(DemoCheckpoint.MARKER + " is of version 0", DemoCheckpoint.problem(dir));
    }

    @Test
    void defaultFolder() {
        assertEquals(Path.of("/x/cache", "demo-v" + DemoWeights.VERSION), DemoCheckpoint.defaultDir(Map.of("POLYV_CACHE", "/x/cache")));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "polyv", "demo-v" + DemoWeights.VERSION), DemoCheckpoint.defaultDir(Map.of()));
    }

    /** Round to nearest even BF16 (finite values). */
    private static float bf16(float x) {
        int b = Float.floatToRawIntBits(x);
        b += 0x7fff + ((b >>> 16) & 1);
        return Float.intBitsToFloat(b & 0xffff0000);
    }
}

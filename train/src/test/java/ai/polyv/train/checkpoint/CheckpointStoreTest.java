package ai.polyv.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.train.autograd.Param;
import ai.polyv.train.optim.AdamW;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CheckpointStoreTest {
    @TempDir
    Path tmp;

    static TrainSettings settings() {
        return new TrainSettings("2-1", 10, 1e-3, "cosine", 0.1, 0, 1, 0, 7, 0, 5);
    }

    static List<Param> params() {
        return List.of(new Param("synergy_heads.temporal.fc2.bias", new long[] {3}, new float[] {1, 2, 3}, new float[] {0.5f, -1, 2}),
                new Param("model.layers.0.mlp.gate.weight", new long[] {2, 2}, new float[] {0.1f, 0.2f, 0.3f, 0.4f}, new float[] {1, 1, 1, 1}));
    }

    static TrainState state(long step) {
        return new TrainState(TrainState.FORMAT, step, step, 1, 2, settings(),
                List.of(new StepRecord(step, 1e-3, 1.25, 0.5, 0.25, 0.01, 2.0, 3.0, 17, null, null)));
    }

    @Test
    void saveLoadRestoresEverything() {
        List<Param> p = params();
        AdamW adam = new AdamW(p, AdamW.Hyper.torchDefaults(0.1));
        adam.step(0.1);
        CheckpointStore store = new CheckpointStore(tmp, 2);
        Path ck = store.save(p, adam, state(1));
        assertEquals(tmp.resolve("step-00000001"), ck);
        assertEquals(ck, CheckpointStore.resolve(tmp));
        assertEquals(ck, CheckpointStore.resolve(tmp.getParent().resolve(tmp.getFileName())));
        CheckpointStore.Loaded l = CheckpointStore.load(ck);
        assertEquals(state(1), l.state());
        List<Param> fresh = List.of(new Param("synergy_heads.temporal.fc2.bias", new long[] {3}, new float[3], new float[3]),
                new Param("model.layers.0.mlp.gate.weight", new long[] {2, 2}, new float[4], new float[4]));
        AdamW adam2 = new AdamW(fresh, AdamW.Hyper.torchDefaults(0.1));
        CheckpointStore.apply(l, fresh, adam2);
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(p.get(i).value(), fresh.get(i).value());
            assertArrayEquals(adam.state().get(i).expAvg(), adam2.state().get(i).expAvg());
            assertArrayEquals(adam.state().get(i).expAvgSq(), adam2.state().get(i).expAvgSq());
        }
        assertEquals(1, adam2.stepCount());
        // a wrong parameter set is refused, naming the file
        List<Param> other = List.of(new Param("x", new long[] {1}, new float[1], new float[1]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckpointStore.apply(l, other, new AdamW(other, AdamW.Hyper.torchDefaults(1))));
        assertTrue(e.getMessage().startsWith(ck.resolve(CheckpointStore.TRAINABLE) + ": holds parameters"), e.getMessage());
    }

    @Test
    void keepsOnlyTheNewest() {
        List<Param> p = params();
        AdamW adam = new AdamW(p, AdamW.Hyper.torchDefaults(0.1));
        CheckpointStore store = new CheckpointStore(tmp, 2);
        for (long s = 1; s <= 4; s++) store.save(p, adam, state(s));
        assertEquals(List.of(tmp.resolve("step-00000003"), tmp.resolve("step-00000004")), store.list());
        assertEquals(tmp.resolve("step-00000004"), CheckpointStore.resolve(tmp));
    }

    /** A save that fails at any phase leaves the previous checkpoint, LATEST and the folder as they were. */
    @ParameterizedTest
    @ValueSource(strings = {"tensors", "state", "rename"})
    void failedSaveKeepsThePreviousCheckpoint(String phase) throws IOException {
        List<Param> p = params();
        AdamW adam = new AdamW(p, AdamW.Hyper.torchDefaults(0.1));
        new CheckpointStore(tmp, 1).save(p, adam, state(3));
        byte[] before = Files.readAllBytes(tmp.resolve("step-00000003").resolve(CheckpointStore.TRAINABLE));
        p.get(0).value()[0] = 99;
        CheckpointStore failing = new CheckpointStore(tmp, 1, at -> {
            if (at.equals(phase)) throw new IOException("disk full (injected at " + at + ")");
        });
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> failing.save(p, adam, state(6)));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        assertEquals(tmp.resolve("step-00000003"), CheckpointStore.resolve(tmp)); // LATEST still names step 3
        assertArrayEquals(before, Files.readAllBytes(tmp.resolve("step-00000003").resolve(CheckpointStore.TRAINABLE)));
        assertEquals(state(3), CheckpointStore.load(tmp.resolve("step-00000003")).state());
        try (Stream<Path> s = Files.list(tmp)) {
            List<String> names = s.map(x -> x.getFileName().toString()).sorted().toList();
            // "rename" failed after the folder was in place: the new one may exist but is not named by LATEST
            List<String> expected = phase.equals("rename") ? List.of("LATEST", "step-00000003", "step-00000006") : List.of("LATEST", "step-00000003");
            assertEquals(expected, names);
        }
    }
}

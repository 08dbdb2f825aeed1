package ai.polyv.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.cli.Main;
import org.junit.jupiter.api.Test;

/** {@code polyv bench} argument validation: each bad input fails with exit 2 before anything is measured. */
class BenchCliTest {
    @Test
    void badArgumentsExitTwo() {
        assertEquals(2, Main.run("bench", "moe", "--tokens", "0"));
        assertEquals(2, Main.run("bench", "moe", "--topk", "5"));
        assertEquals(2, Main.run("bench", "moe", "--dtype", "f16"));
        assertEquals(2, Main.run("bench", "moe", "--max-seconds", "0"));
        assertEquals(2, Main.run("bench", "moe", "--backend", "tpu"));
        assertEquals(2, Main.run("bench", "decode", "--config", "huge"));
        assertEquals(2, Main.run("bench", "decode", "--config", "mid", "--model", "/tmp"));
        assertEquals(2, Main.run("bench", "decode", "--tokens", "0"));
        assertEquals(2, Main.run("bench", "ops", "--bogus"));
    }

    @Test
    void cudaBenchmarksFailClearlyWithoutTheCudaBackend() {
        assertEquals(2, Main.run("bench", "kernels"));
        assertEquals(2, Main.run("bench", "e2e"));
        assertEquals(2, Main.run("bench", "moe", "--backend", "cuda", "--tokens", "1"));
    }

    @Test
    void benchWithoutSubcommandPrintsUsage() {
        assertEquals(0, Main.run("bench"));
    }
}

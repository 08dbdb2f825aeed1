package ai.polyv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.cli.Main;
import ai.polyv.cuda.driver.CudaProbe;
import org.junit.jupiter.api.Assumptions;
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
        assertEquals(2, Main.run("bench", "train", "--tokens", "1"));
        assertEquals(2, Main.run("bench", "train", "--config", "huge"));
        assertEquals(2, Main.run("bench", "train", "--stage", "3"));
    }

    @Test
    void cudaBenchmarksFailClearlyWithoutARealDevice() {
        // no CUDA at all, or the emulated device (which GPU benchmarks refuse: it proves logic, never timing)
        CudaProbe probe = CudaProbe.probe();
        Assumptions.assumeFalse(probe.available() && !probe.emulated(), "a real CUDA device is present: these commands would run");
        assertEquals(2, Main.run("bench", "kernels"));
        assertEquals(2, Main.run("bench", "kernels", "--only", "experts", "--json", "/tmp/never-written.json"));
        assertEquals(2, Main.run("bench", "e2e", "--random-weights"));
        assertEquals(2, Main.run("bench", "e2e", "--config", "polyv-7b", "--random-weights", "--backend", "cuda-bf16", "--batch", "1,8"));
        assertEquals(2, Main.run("bench", "moe", "--backend", "cuda", "--tokens", "1"));
        assertEquals(2, Main.run("bench", "moe", "--backend", "cuda-bf16", "--tokens", "1"));
    }

    @Test
    void gpuBenchmarkArgumentsAreCheckedBeforeCuda() {
        assertEquals(2, Main.run("bench", "kernels", "--only", "gemm"));
        assertEquals(2, Main.run("bench", "kernels", "--reps", "0"));
        assertEquals(2, Main.run("bench", "e2e"));                                             // --random-weights missing
        assertEquals(2, Main.run("bench", "e2e", "--random-weights", "--config", "polyv-70b"));
        assertEquals(2, Main.run("bench", "e2e", "--random-weights", "--backend", "cpu"));
        assertEquals(2, Main.run("bench", "e2e", "--random-weights", "--batch", "0"));
        assertEquals(2, Main.run("bench", "e2e", "--random-weights", "--tokens", "0"));
        assertEquals(2, Main.run("bench", "chart", "--out", "/tmp/x.png"));                     // --json missing
        assertEquals(2, Main.run("bench", "chart", "--json", "/nonexistent/ops.json", "--out", "/tmp/x.png"));
    }

    @Test
    void benchWithoutSubcommandPrintsUsage() {
        assertEquals(0, Main.run("bench"));
    }
}

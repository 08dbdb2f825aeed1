package ai.polyv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.train.upcycle.SyntheticQwen;
import ai.polyv.train.upcycle.UpcycleException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code polyv upcycle} through {@link Main}: exit codes, the printed plan and summary, one-line errors. */
class UpcycleCommandTest {
    @TempDir
    static Path tmp;
    static Path base;
    static Path donor;

    @BeforeAll
    static void checkpoints() {
        PolyVConfig c = SyntheticQwen.config(4, 96);
        base = SyntheticQwen.write(tmp.resolve("base"), c, DType.BF16, 1, 0.05, 0);
        donor = SyntheticQwen.write(tmp.resolve("donor"), c, DType.BF16, 2, 0.05, 0);
    }

    record Run(int status, String out, String err) {}

    static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Main.run(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void upcyclesAndPrintsThePlanAndSummary() {
        Path out = tmp.resolve("moe");
        Run r = run("upcycle", "--base", base.toString(), "--experts-from", donor.toString(), "--moe-layers", "0,2",
                "--experts", "3", "--norm-topk-prob", "--router-seed", "7", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("expert 0 <- base FFN\n"), r.out());
        assertTrue(r.out().contains("expert 1 <- donor 1 " + donor + "\n"), r.out());
        assertTrue(r.out().contains("expert 2 <- base FFN (no donor for this expert"), r.out());
        assertTrue(r.out().contains("mlp.gate.weight [3, 64] BF16 <- normal(0, 0.02), L64X128MixRandom seed 7"), r.out());
        assertTrue(r.out().contains("wrote    " + out + ": 83 tensors, 309,504 params, 619.0 KB in 1 shard(s)"), r.out());
        PolyVConfig c = PolyVConfig.load(out);
        assertTrue(c.moe().normTopkProb());
        assertEquals(2, c.moe().topK());
    }

    @Test
    void dryRunWritesNothing() {
        Path out = tmp.resolve("dry");
        Run r = run("upcycle", "--base", base.toString(), "--moe-layers", "1", "--experts", "1", "--dry-run", "--list-tensors",
                "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("model.layers.1.mlp.experts.0.up_proj.weight BF16[96, 64] <- base:model.layers.1.mlp.up_proj.weight"), r.out());
        assertTrue(r.out().contains("top-1"), r.out());
        assertFalse(Files.exists(out));
    }

    @Test
    void badInputIsOneLineOnStderrWithStatus2() {
        Run r = run("upcycle", "--base", base.toString(), "--moe-layers", "0,9", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.status());
        assertEquals("polyv upcycle: --moe-layers: layer 9 is out of range: " + base
                + " has num_hidden_layers = 4 (valid: 0..3)\n", r.err());
    }

    @Test
    void existingOutIsRefusedBeforeThePlan() throws java.io.IOException {
        Path out = Files.createDirectories(tmp.resolve("taken"));
        Run r = run("upcycle", "--base", base.toString(), "--moe-layers", "0", "--experts", "2", "--out", out.toString());
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals("polyv upcycle: --out " + out + " already exists (use --force to replace it)\n", r.err());
    }

    @Test
    void shardSizes() {
        assertEquals(5_000_000_000L, UpcycleCommand.parseSize("5GB"));
        assertEquals(500_000_000L, UpcycleCommand.parseSize("500MB"));
        assertEquals(2L << 30, UpcycleCommand.parseSize("2GiB"));
        assertEquals(123, UpcycleCommand.parseSize("123"));
        assertEquals(1_500_000L, UpcycleCommand.parseSize("1.5mb"));
        assertThrows(UpcycleException.class, () -> UpcycleCommand.parseSize("5 parsecs"));
        assertThrows(UpcycleException.class, () -> UpcycleCommand.parseSize("0"));
    }
}

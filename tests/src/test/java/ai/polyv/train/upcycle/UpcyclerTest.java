package ai.polyv.train.upcycle;

import static ai.polyv.testsupport.RelativeError.relL2;
import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.Session;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upcycling a small synthetic dense Qwen2.5-VL (4 layers, hidden 64, FFN 96, BF16; sharded base) with two
 * donors: exact bytes of every expert, router and shared tensor, the config, loading and running the result,
 * and the dense-equivalence identity (all experts = base FFN, renormalised top-k => the dense model's logits).
 */
class UpcyclerTest {
    static final String[] PROJ = {"gate_proj.weight", "up_proj.weight", "down_proj.weight"};
    static final int[] PROMPT = {1, 17, 230, 150, 42, 7, 99, 255};

    @TempDir
    static Path tmp;
    static PolyVConfig dense;
    static Path base;    // sharded BF16
    static Path donor1;  // single-file BF16, other values
    static Path donor2;

    @BeforeAll
    static void checkpoints() {
        dense = SyntheticQwen.config(4, 96);
        base = SyntheticQwen.write(tmp.resolve("base"), dense, DType.BF16, 11, 0.08, 120_000);
        donor1 = SyntheticQwen.write(tmp.resolve("donor1"), dense, DType.BF16, 22, 0.08, 0);
        donor2 = SyntheticQwen.write(tmp.resolve("donor2"), dense, DType.BF16, 33, 0.08, 0);
    }

    static UpcycleOptions options(List<Path> donors, int[] layers, int experts) {
        return UpcycleOptions.of(base, donors, layers, experts).withRouter(1234, 0.05);
    }

    static Upcycler.Summary upcycle(UpcycleOptions o, Path out) {
        try (Upcycler u = Upcycler.open(o)) {
            return u.write(out, false, n -> { });
        }
    }

    static byte[] bytes(Checkpoint c, String name) {
        return c.tensor(name).toByteArray();
    }

    @Test
    void expertsRouterAndSharedTensorsAreExact() throws IOException {
        Path out = tmp.resolve("moe-exact");
        UpcycleOptions o = options(List.of(donor1, donor2), new int[] {2, 0}, 4).withMaxShardBytes(150_000);
        AtomicLong progress = new AtomicLong();
        Upcycler.Summary s;
        try (Upcycler u = Upcycler.open(o)) {
            s = u.write(out, false, progress::addAndGet);
        }
        assertEquals(s.bytes(), progress.get(), "progress reports every byte written");
        assertTrue(s.shards() > 1, "sharded like asked: " + s.shards());
        assertTrue(Files.isRegularFile(out.resolve(Checkpoint.INDEX_NAME)));
        assertEquals("{\"model\": {\"type\": \"BPE\"}}\n", Files.readString(out.resolve("tokenizer.json")));
        try (Checkpoint b = Checkpoint.open(base); Checkpoint d1 = Checkpoint.open(donor1); Checkpoint d2 = Checkpoint.open(donor2);
             Checkpoint m = Checkpoint.open(out)) {
            Checkpoint[] expertSource = {b, d1, d2, b};
            Set<String> expected = new TreeSet<>();
            for (String n : b.names()) {
                if (n.startsWith("model.layers.0.mlp.") || n.startsWith("model.layers.2.mlp.")) {
                    continue;
                }
                expected.add(n);
                assertArrayEquals(bytes(b, n), bytes(m, n), "shared tensor " + n);
            }
            for (int layer : new int[] {0, 2}) {
                String p = "model.layers." + layer + ".mlp.";
                for (int e = 0; e < 4; e++) {
                    for (String proj : PROJ) {
                        String name = p + "experts." + e + "." + proj;
                        expected.add(name);
                        assertEquals(DType.BF16, m.tensor(name).dtype());
                        assertArrayEquals(bytes(expertSource[e], p + proj), bytes(m, name), name);
                    }
                }
                String router = p + "gate.weight";
                expected.add(router);
                TensorView r = m.tensor(router);
                assertArrayEquals(new long[] {4, 64}, r.shape());
                assertEquals(DType.BF16, r.dtype());
                float[] want = SeededInit.values(1234, 0.05, router, 4 * 64);
                assertArrayEquals(TensorData.fromFloats(DType.BF16, new long[] {4, 64}, want).bytes().toArray(ValueLayout.JAVA_BYTE),
                        r.toByteArray(), router);
                // the seeded values differ per layer and really are ~normal(0, 0.05)
                double sq = 0;
                for (float v : want) sq += v * v;
                assertEquals(0.05, Math.sqrt(sq / want.length), 0.01);
            }
            assertEquals(expected, m.names(), "exactly the shared, expert and router tensors");
            assertEquals(b.names().size() - 6 + 24 + 2, s.tensors());
            assertFalse(m.has("model.layers.0.mlp.gate_proj.weight"));
        }
        PolyVConfig c = PolyVConfig.load(out);
        assertEquals(dense.text(), c.text());
        assertEquals(dense.vision(), c.vision());
        assertEquals(dense.tokens(), c.tokens());
        assertArrayEquals(new int[] {0, 2}, c.moe().layers());
        assertEquals(4, c.moe().numExperts());
        assertEquals(2, c.moe().topK());
        assertFalse(c.moe().normTopkProb());
        assertEquals(0.01, c.moe().auxLossCoef());
        assertNull(c.synergy());
        assertEquals(28, c.position3d().mergePixels());
        JsonNode raw = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(Upcycler.ARCHITECTURE, raw.get("architectures").get(0).asText());
        assertEquals(dense.text().hiddenSize(), raw.get("hidden_size").asInt(), "hub-flat layout kept");
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")).toList(), "no temp folders left");
        }
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("config.json"))));
    }

    @Test
    void weightsThatDoNotMatchTheConfigFailBeforeWriting() throws IOException {
        Path lying = tmp.resolve("base-lying");
        SyntheticQwen.write(lying, dense, DType.BF16, 6, 0.08, 0);
        Files.writeString(lying.resolve("config.json"), Files.readString(lying.resolve("config.json"))
                .replace("\"vocab_size\" : 300", "\"vocab_size\" : 320"));
        var e = assertThrows(UpcycleException.class, () -> Upcycler.open(UpcycleOptions.of(lying, List.of(), new int[] {0}, 2)));
        assertEquals("base " + lying + ": tensor \"model.embed_tokens.weight\" has shape [300, 64], its config.json implies [320, 64]", e.getMessage());
    }

    @Test
    void upcycledModelLoadsAndPrefills() {
        Path out = tmp.resolve("moe-load");
        upcycle(options(List.of(donor1), new int[] {1, 3}, 3), out);
        // the output passes `polyv inspect` (file checks + every tensor the MoE config needs, with its shape)
        java.io.PrintStream savedOut = System.out;
        java.io.ByteArrayOutputStream inspected = new java.io.ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new java.io.PrintStream(inspected, true, java.nio.charset.StandardCharsets.UTF_8));
            rc = ai.polyv.cli.Main.run("inspect", out.toString());
        } finally {
            System.setOut(savedOut);
        }
        assertEquals(0, rc, inspected.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(inspected.toString(java.nio.charset.StandardCharsets.UTF_8).contains("VALID (file checks; all "), "inspect verdict");
        try (Backend be = Backend.cpu(); PolyVModel model = PolyVModel.load(out, be); Session s = model.newSession(16)) {
            assertTrue(model.config().isMoeLayer(3));
            float[] logits = s.prefill(PROMPT, List.of());
            assertEquals(300, logits.length);
            for (float v : logits) assertTrue(Float.isFinite(v));
            float[] next = s.decode(argmax(logits));
            assertEquals(300, next.length);
            long routed = 0;
            for (long c : s.routingStats().tokensPerExpert(1)) routed += c;
            assertEquals(2L * (PROMPT.length + 1), routed, "top-2 routing over 9 tokens in layer 1");
        }
    }

    /**
     * Every expert = the base FFN and renormalised top-k weights (sum 1) make each MoE layer compute exactly the
     * dense FFN, so the logits equal the dense model's (up to float summation order: the weighted sum
     * w1*y + w2*y with w1+w2 = 1 in float32 differs from y by a few ulps). With raw softmax weights
     * (sum < 1) the outputs must differ: the test would catch an MoE that ignored its weights.
     */
    @Test
    void allBaseExpertsWithRenormalisedTopKGiveTheDenseLogits() {
        Path norm = tmp.resolve("moe-norm");
        Path raw = tmp.resolve("moe-raw");
        upcycle(options(List.of(), new int[] {0, 1, 2, 3}, 3).withTopK(2, true), norm);
        upcycle(options(List.of(), new int[] {0, 1, 2, 3}, 3).withTopK(2, false), raw);
        assertTrue(PolyVConfig.load(norm).moe().normTopkProb());
        assertFalse(PolyVConfig.load(raw).moe().normTopkProb());
        float[] want = logits(base);
        float[] same = logits(norm);
        float[] differ = logits(raw);
        assertTrue(relL2(same, want) < 1e-5, "renormalised all-base MoE differs from dense: rel " + relL2(same, want));
        assertTrue(relL2(differ, want) > 1e-2, "raw top-2 weights sum < 1, so logits must change: rel " + relL2(differ, want));
    }

    @Test
    void synergyHeadsAreInitialisedFromTheSeed() {
        Path out = tmp.resolve("moe-synergy");
        upcycle(options(List.of(), new int[] {0}, 2).withSynergyHeads(new UpcycleOptions.SynergyHeads(null, 48, 24, 40)), out);
        PolyVConfig c = PolyVConfig.load(out);
        assertEquals(299, c.synergy().tokenId(), "default token: vocab_size - 1");
        assertEquals(48, c.synergy().temporal().hiddenSize());
        assertEquals(24, c.synergy().temporal().outSize());
        assertEquals(40, c.synergy().spatial().outSize());
        try (Checkpoint m = Checkpoint.open(out)) {
            TensorView fc1 = m.tensor("synergy_heads.spatial.fc1.weight");
            assertArrayEquals(new long[] {48, 64}, fc1.shape());
            float[] want = SeededInit.values(1234, 0.02, fc1.name(), 48 * 64);
            assertArrayEquals(TensorData.fromFloats(DType.BF16, fc1.shape(), want).bytes().toArray(ValueLayout.JAVA_BYTE), fc1.toByteArray());
            assertArrayEquals(new long[] {40, 48}, m.tensor("synergy_heads.spatial.fc2.weight").shape());
            assertArrayEquals(new float[24], m.tensor("synergy_heads.temporal.fc2.bias").toFloatArray());
        }
        try (Backend be = Backend.cpu(); PolyVModel model = PolyVModel.load(out, be)) {
            float[] y = model.synergyHead(PolyVModel.SynergyHead.SPATIAL, new float[2 * 64], 2);
            assertEquals(2 * 40, y.length);
        }
    }

    @Test
    void f32DonorIsConvertedToTheBaseDtype() {
        Path f32 = SyntheticQwen.write(tmp.resolve("donor-f32"), dense, DType.F32, 44, 0.08, 0);
        Path out = tmp.resolve("moe-f32donor");
        upcycle(options(List.of(f32), new int[] {3}, 2), out);
        try (Checkpoint d = Checkpoint.open(f32); Checkpoint m = Checkpoint.open(out)) {
            TensorView src = d.tensor("model.layers.3.mlp.up_proj.weight");
            TensorView got = m.tensor("model.layers.3.mlp.experts.1.up_proj.weight");
            assertEquals(DType.BF16, got.dtype());
            assertArrayEquals(TensorData.fromFloats(DType.BF16, src.shape(), src.toFloatArray()).bytes().toArray(ValueLayout.JAVA_BYTE),
                    got.toByteArray());
        }
    }

    @Test
    void donorShapeMismatchNamesTheTensor() {
        Path wide = SyntheticQwen.write(tmp.resolve("donor-wide"), SyntheticQwen.config(4, 128), DType.BF16, 5, 0.08, 0);
        var e = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(donor1, wide), new int[] {0}, 4)));
        assertEquals("donor 2 " + wide + ": tensor \"model.layers.0.mlp.down_proj.weight\" has shape [64, 128], the base has [64, 96]",
                e.getMessage());
    }

    @Test
    void invalidOptionsAreRejectedBeforeWriting() throws IOException {
        var range = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(), new int[] {0, 4}, 4)));
        assertEquals("--moe-layers: layer 4 is out of range: " + base + " has num_hidden_layers = 4 (valid: 0..3)", range.getMessage());
        var dup = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(), new int[] {1, 1}, 4)));
        assertTrue(dup.getMessage().contains("layer 1 is listed twice"), dup.getMessage());
        var k = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(), new int[] {0}, 2).withTopK(3, false)));
        assertEquals("--top-k must be in [1, experts = 2], got 3", k.getMessage());
        var none = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(), new int[] {0}, 0)));
        assertEquals("--experts must be at least 1, got 0", none.getMessage());
        var many = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(donor1, donor2), new int[] {0}, 2)));
        assertTrue(many.getMessage().contains("2 donor(s) given but only 1 expert(s) after expert 0"), many.getMessage());
        var missing = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(tmp.resolve("nope")), new int[] {0}, 2)));
        assertEquals("donor 1 " + tmp.resolve("nope") + " does not exist", missing.getMessage());
        Path file = Files.writeString(tmp.resolve("donor.txt"), "x");
        var notFolder = assertThrows(UpcycleException.class, () -> Upcycler.open(options(List.of(file), new int[] {0}, 2)));
        assertEquals("donor 1 " + file + " is not a directory (it is a file)", notFolder.getMessage());
        Path golden = SharedData.golden("tiny-a");
        var moe = assertThrows(UpcycleException.class, () -> Upcycler.open(UpcycleOptions.of(golden, List.of(), new int[] {1}, 2)));
        assertTrue(moe.getMessage().contains("already has a moe object"), moe.getMessage());
    }

    @Test
    void existingOutIsRefusedUntouchedAndReplacedOnlyWithForce() throws IOException {
        Path out = tmp.resolve("moe-exists");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "old");
        UpcycleOptions o = options(List.of(), new int[] {0}, 2);
        try (Upcycler u = Upcycler.open(o)) {
            var e = assertThrows(UpcycleException.class, () -> u.write(out, false, n -> { }));
            assertEquals("--out " + out + " already exists (use --force to replace it)", e.getMessage());
            try (Stream<Path> s = Files.list(out)) {
                assertEquals(List.of(out.resolve("keep.txt")), s.toList());
            }
            assertEquals("old", Files.readString(out.resolve("keep.txt")));
            Path file = Files.writeString(tmp.resolve("moe.txt"), "not a folder");
            var notFolder = assertThrows(UpcycleException.class, () -> u.write(file, true, n -> { }));
            assertEquals("--out " + file + " is not a directory (it is a file): not replacing it", notFolder.getMessage());
            assertEquals("not a folder", Files.readString(file));
            var self = assertThrows(UpcycleException.class, () -> u.write(base.resolve("sub"), true, n -> { }));
            assertTrue(self.getMessage().contains("overlaps the input"), self.getMessage());
            u.write(out, true, n -> { });
        }
        assertFalse(Files.exists(out.resolve("keep.txt")));
        assertTrue(PolyVConfig.load(out).isMoe());
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")).toList(), "no temp or old folders left");
        }
    }

    static float[] logits(Path dir) {
        try (Backend be = Backend.cpu(); PolyVModel model = PolyVModel.load(dir, be); Session s = model.newSession(PROMPT.length)) {
            return s.prefill(PROMPT, List.of());
        }
    }


    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

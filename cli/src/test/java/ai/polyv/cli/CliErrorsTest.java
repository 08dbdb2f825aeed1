package ai.polyv.cli;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.core.demo.DemoImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to {@code polyv generate}, through the CLI entry point: each case gives exit status 2 and
 * exactly one line on stderr that names the culprit, no stack trace.
 */
class CliErrorsTest {

    static final Path TINY_A = GenerateCommandTest.TINY_A;

    @TempDir
    Path tmp;

    private static void assertOneLineError(CliRun r, String... fragments) {
        assertEquals(2, r.status(), "exit status; stderr: " + r.err());
        String[] lines = r.errLines();
        assertEquals(1, lines.length, "one line on stderr, got: " + r.err());
        assertTrue(lines[0].startsWith("polyv generate: "), lines[0]);
        for (String f : fragments) assertTrue(lines[0].contains(f), "'" + f + "' in: " + lines[0]);
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    private CliRun generate(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "generate";
        System.arraycopy(args, 0, all, 1, args.length);
        return CliRun.run(all);
    }

    /** tiny-a with one tensor left out or replaced. */
    private Path tinyAWith(String name, TensorSource replacement) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.copy(TINY_A.resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(TINY_A)) {
            Map<String, TensorSource> t = new TreeMap<>();
            for (String n : ck.names()) t.put(n, TensorData.of(ck.tensor(n)));
            if (replacement == null) t.remove(name);
            else t.put(name, replacement);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), t);
        }
        return dir;
    }

    @Test
    void missingWeight() throws IOException {
        Path dir = tinyAWith("model.layers.2.self_attn.k_proj.weight", null);
        assertOneLineError(generate("--model", dir.toString(), "--prompt-ids", "1,2,3"), "model.layers.2.self_attn.k_proj.weight");
    }

    @Test
    void misshapedWeight() throws IOException {
        Path dir = tinyAWith("model.layers.1.mlp.up_proj.weight", TensorData.f32(new long[] {160, 95}, new float[160 * 95]));
        assertOneLineError(generate("--model", dir.toString(), "--prompt-ids", "1,2,3"), "model.layers.1.mlp.up_proj.weight", "[160, 95]", "expected");
    }

    @Test
    void missingModelFolder() {
        assertOneLineError(generate("--model", tmp.resolve("nope").toString(), "--prompt-ids", "1"), "nope", "does not exist");
    }

    @Test
    void imageThatDoesNotDecode() throws IOException {
        Path bad = tmp.resolve("broken.png");
        Files.write(bad, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5});
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--image", bad.toString()), "broken.png");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--image", tmp.resolve("absent.jpg").toString()),
                "absent.jpg", "does not exist");
    }

    /** A path that exists but is the wrong kind of thing is named as such, not as missing. */
    @Test
    void pathsThatExistButAreNotWhatTheOptionTakes() throws IOException {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "x");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--image", "/dev/null"),
                "image file /dev/null is not a regular file");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--image", tmp.toString()),
                "image file " + tmp + " is not a regular file (it is a directory)");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--video", "/dev/null"),
                "video directory /dev/null is not a directory");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--video", file.toString()),
                "video directory " + file + " is not a directory (it is a file)");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--scene", "/dev/null"),
                "scene directory /dev/null is not a directory");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2", "--scene", tmp.resolve("absent").toString()),
                "scene directory " + tmp.resolve("absent") + " does not exist");
        assertOneLineError(generate("--model", "/dev/null", "--prompt-ids", "1"), "model folder /dev/null is not a directory");
        assertOneLineError(generate("--model", TINY_A.resolve("config.json").toString(), "--prompt-ids", "1"),
                "model folder " + TINY_A.resolve("config.json") + " is not a directory (it is a file)");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt", "hi", "--tokenizer", "/dev/null"),
                "tokenizer file /dev/null is not a regular file");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt", "hi", "--tokenizer", TINY_A.toString()),
                "tokenizer file " + TINY_A + " is not a regular file (it is a directory)");
    }

    @Test
    void gridThatDoesNotMatchThePlaceholders() throws IOException {
        Path png = tmp.resolve("img.png");
        GenerateCommandTest.writePng(DemoImage.create(56, 56), png); // grid 1x4x4: 4 placeholders needed
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2,3", "--image", png.toString()),
                "0 vision placeholder segments", "1 vision inputs");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,1998,2000,2000,2000,1999", "--image", png.toString()),
                "3 placeholder tokens", "4 merged tokens");
    }

    @Test
    void promptLongerThanTheContext() {
        // tiny-a: max_position_embeddings 4096
        String ids = String.join(",", java.util.Collections.nCopies(4096, "7"));
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", ids), "prompt too long", "4096");
    }

    @Test
    void idOutsideTheVocabulary() {
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1,2048"), "token id 2048", "[0, 2048)");
    }

    @Test
    void missingTokenizer() {
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt", "hi"), "no tokenizer", "tokenizer.json");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt", "hi", "--tokenizer", tmp.resolve("tok.json").toString()),
                "tok.json", "does not exist");
    }

    @Test
    void serveNeedsATokenizerAndSaneOptions() {
        CliRun noTok = CliRun.run("serve", "--model", TINY_A.toString(), "--port", "0");
        assertEquals(2, noTok.status(), noTok.err());
        assertTrue(noTok.err().startsWith("polyv serve: tokenizer file (a chat server needs one) "), noTok.err());
        assertTrue(noTok.err().contains("does not exist"), noTok.err());
        CliRun badPort = CliRun.run("serve", "--model", DemoFixture.checkpoint().toString(), "--port", "70000");
        assertEquals(2, badPort.status());
        assertTrue(badPort.err().contains("--port must be in [0, 65535], got 70000"), badPort.err());
    }

    @Test
    void tokenizerOfAnotherModel() {
        Path qwen = SharedData.qwenTokenizer().resolve("tokenizer.json");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt", "hi", "--tokenizer", qwen.toString()),
                "151669 ids", "vocab_size is 2048");
    }

    @Test
    void unknownOrUnavailableBackend() {
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1", "--backend", "tpu"), "unknown backend 'tpu'");
        // where this JVM has CUDA (a device, or the emulated device the test suite picks without one), the
        // unavailable-backend line cannot happen here; CudaAvailabilityTest checks it in a JVM without emulation
        if (!ai.polyv.cuda.driver.CudaProbe.probe().available()) {
            assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1", "--backend", "cuda"), "CUDA");
        }
    }

    @Test
    void badSamplingOptions() {
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1", "--top-p", "0"), "top-p");
        assertOneLineError(generate("--model", TINY_A.toString(), "--prompt-ids", "1", "--max-new-tokens", "0"), "max new tokens");
    }
}

package ai.polyv.cli;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.demo.DemoCheckpoint;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.preprocess.GoldenFile;
import ai.polyv.core.preprocess.RgbFrames;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code polyv generate} through the CLI entry point. */
class GenerateCommandTest {

    static final Path TINY_A = SharedData.golden("tiny-a");

    @TempDir
    Path tmp;

    static void writePng(RgbFrames f, Path file) throws IOException {
        write(f, file, "png");
    }

    static void write(RgbFrames f, Path file, String format) throws IOException {
        BufferedImage img = new BufferedImage(f.width(), f.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < f.height(); y++) {
            for (int x = 0; x < f.width(); x++) img.setRGB(x, y, (f.get(0, y, x, 0) << 16) | (f.get(0, y, x, 1) << 8) | f.get(0, y, x, 2));
        }
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no ImageIO writer for " + format);
    }

    @Test
    void rawIdsWithAnImageFileGiveTheGoldenGreedyIds() throws IOException {
        // tiny-a "image" case: its frames as a PNG file, its prompt ids, greedy: the golden ids on stdout
        GoldenFile g = GoldenFile.open("tiny-a");
        int[] s = g.shape("image.image0.frames_u8");
        Path png = tmp.resolve("image0.png");
        writePng(new RgbFrames(1, s[1], s[2], g.u8("image.image0.frames_u8")), png);
        String ids = Arrays.stream(g.i64("image.input_ids")).mapToObj(Long::toString).collect(Collectors.joining(","));
        long[] golden = g.i64("image.greedy_ids");
        CliRun r = CliRun.run("generate", "--model", TINY_A.toString(), "--prompt-ids", ids, "--image", png.toString(),
                "--max-new-tokens", String.valueOf(golden.length), "--routing-stats", "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains(Arrays.toString(golden)), r.out());
        assertTrue(r.err().contains("prompt: 77 tokens, vision grids 1x14x18"), r.err());
        assertTrue(r.err().contains("decode: " + golden.length + " tokens generated"), r.err());
        // tiny-a: MoE layers 0 and 4, 4 experts; 63 image tokens each
        assertTrue(r.err().lines().anyMatch(l -> l.matches("\\s+0\\s+all\\s+" + (77 + golden.length - 1) + "\\s+.*")), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.matches("\\s+image\\s+63\\s+.*")), r.err());
    }

    @Test
    void batchFileDecodesRequestsTogetherAndWritesGoldenIdsInOrder() throws IOException {
        // the tiny-a text and image cases, twice each with different budgets, 2 decoded at a time
        GoldenFile g = GoldenFile.open("tiny-a");
        int[] s = g.shape("image.image0.frames_u8");
        Files.createDirectories(tmp.resolve("in"));
        writePng(new RgbFrames(1, s[1], s[2], g.u8("image.image0.frames_u8")), tmp.resolve("in/cat.png"));
        String textIds = Arrays.toString(g.i64("text.input_ids")), imageIds = Arrays.toString(g.i64("image.input_ids"));
        long[] textGolden = g.i64("text.greedy_ids"), imageGolden = g.i64("image.greedy_ids");
        Path in = tmp.resolve("in/requests.jsonl"), out = tmp.resolve("out/results.jsonl");
        Files.writeString(in, String.join("\n",
                "{\"prompt_ids\": " + textIds + "}",
                "",
                "{\"prompt_ids\": " + imageIds + ", \"images\": [\"cat.png\"], \"max_new_tokens\": " + imageGolden.length + "}",
                "{\"prompt_ids\": " + textIds + ", \"max_new_tokens\": 3}",
                "{\"prompt_ids\": " + imageIds + ", \"images\": [\"cat.png\"], \"max_new_tokens\": 2}") + "\n");
        CliRun r = CliRun.run("generate", "--model", TINY_A.toString(), "--batch-file", in.toString(), "--out", out.toString(),
                "--max-new-tokens", String.valueOf(textGolden.length), "--max-batch", "2", "--threads", "2");
        assertEquals(0, r.status(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(4, lines.size(), String.join("\n", lines));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        long[][] expected = {textGolden, imageGolden,
                Arrays.copyOf(textGolden, 3), Arrays.copyOf(imageGolden, 2)};
        int[] lineNo = {1, 3, 4, 5};
        for (int i = 0; i < 4; i++) {
            var o = json.readTree(lines.get(i));
            assertEquals(lineNo[i], o.get("line").asInt());
            long[] ids = new long[o.get("ids").size()];
            for (int j = 0; j < ids.length; j++) ids[j] = o.get("ids").get(j).asLong();
            assertArrayEquals(expected[i], ids, "request on line " + lineNo[i]);
            assertEquals("max_new_tokens", o.get("stop").asText());
            assertEquals("", o.get("text").asText());
        }
        assertEquals(77, json.readTree(lines.get(1)).get("prompt_tokens").asInt());
        assertTrue(r.err().contains("4 requests, up to 2 decoded together"), r.err());
    }

    @Test
    void badBatchFilesNameTheLineAndWriteNothing() throws IOException {
        Path in = tmp.resolve("bad.jsonl"), out = tmp.resolve("results.jsonl");
        String[][] cases = {
                {"{\"prompt_ids\": [1, 2]}\n{\"prompt_ids\": [1], \"colour\": 3}", "line 2: unknown field \"colour\""},
                {"{\"prompt_ids\": [1, 2], \"prompt\": \"hi\"}", "line 1: give exactly one of \"prompt\""},
                {"{\"prompt_ids\": [1, 2.5]}", "line 1: \"prompt_ids\"[1] is not an integer"},
                {"{\"prompt_ids\": [1], \"images\": [\"nope.png\"]}", "line 1: \"images\"[0]: "},
                {"[1, 2]", "line 1: expected a JSON object, got array"},
                {"{\"prompt_ids\": [1]", "line 1: not JSON"},
                {"\n\n", "holds no request"},
                {"{\"prompt_ids\": [1], \"history\": []}", "line 1: \"system\" and \"history\" need a chat \"prompt\""},
                {"{\"prompt\": \"hi\", \"history\": [1]}", "line 1: \"history\"[0] must be"},
                {"{\"prompt_ids\": [1]}\n{\"prompt_ids\": [1], \"image_bytes\": [\"bm90IGFuIGltYWdl\"]}",
                        "line 2: image \"image_bytes\"[0] is not a PNG or JPEG image (12 bytes)"},   // base64 of "not an image"
        };
        for (String[] c : cases) {
            Files.writeString(in, c[0]);
            CliRun r = CliRun.run("generate", "--model", TINY_A.toString(), "--batch-file", in.toString(), "--out", out.toString());
            assertEquals(2, r.status(), c[0]);
            assertTrue(r.err().contains(c[1]), "expected '" + c[1] + "' in: " + r.err());
            assertFalse(Files.exists(out), "nothing is written on failure");
        }
        Files.writeString(in, "{\"prompt_ids\": [1, 2]}");
        CliRun noOut = CliRun.run("generate", "--model", TINY_A.toString(), "--batch-file", in.toString());
        assertEquals(2, noOut.status());
        assertTrue(noOut.err().contains("--batch-file needs --out FILE"), noOut.err());
        CliRun outAlone = CliRun.run("generate", "--model", TINY_A.toString(), "--prompt-ids", "1,2", "--out", out.toString());
        assertEquals(2, outAlone.status());
        assertTrue(outAlone.err().contains("--out is for --batch-file"), outAlone.err());
    }

    @Test
    void chatPromptOnTheDemoCheckpointStreamsText() throws IOException {
        Path png = tmp.resolve("demo.png");
        writePng(DemoImage.create(252, 336), png);
        CliRun r = CliRun.run("generate", "--model", DemoFixture.checkpoint().toString(), "--prompt", "Describe this image.",
                "--image", png.toString(), "--max-new-tokens", "8");
        assertEquals(0, r.status(), r.err());
        // the same greedy ids as the embedding example: text of EXPECTED_GREEDY there
        int[] expected = {97084, 135100, 72562, 56382, 97084, 135100, 72562, 56382};
        assertEquals(DemoCheckpoint.bundledTokenizer().decode(expected, true) + "\n", r.out());
        assertTrue(r.err().contains("prefill: "), r.err());
        assertTrue(r.err().contains("(vision encoder "), r.err());
        assertTrue(r.err().contains("stop: max new tokens (8)"), r.err());
    }

    @Test
    void stopStringEndsTheOutputBeforeIt() throws IOException {
        Path png = tmp.resolve("demo.png");
        writePng(DemoImage.create(252, 336), png);
        // the greedy text of chatPromptOnTheDemoCheckpointStreamsText; stop at a piece of its middle
        String full = DemoCheckpoint.bundledTokenizer().decode(new int[] {97084, 135100, 72562, 56382, 97084, 135100, 72562, 56382}, true);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        CliRun r = CliRun.run("generate", "--model", DemoFixture.checkpoint().toString(), "--prompt", "Describe this image.",
                "--image", png.toString(), "--max-new-tokens", "8", "--stop", stop);
        assertEquals(0, r.status(), r.err());
        assertEquals(full.substring(0, full.indexOf(stop)) + "\n", r.out());
        assertTrue(r.err().contains("stop: stop string"), r.err());
    }

    @Test
    void historyFileAddsEarlierExchangesToTheChatPrompt() throws IOException {
        Path history = tmp.resolve("history.json");
        Files.writeString(history, "[{\"user\": \"What is it?\", \"assistant\": \"A square.\"}]");
        CliRun r = CliRun.run("generate", "--model", DemoFixture.checkpoint().toString(), "--prompt", "Why?", "--history", history.toString(),
                "--max-new-tokens", "2");
        assertEquals(0, r.status(), r.err());
        String template = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is it?<|im_end|>\n"
                + "<|im_start|>assistant\nA square.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n";
        int tokens = DemoCheckpoint.bundledTokenizer().encode(template).length;
        assertTrue(r.err().contains("prompt: " + tokens + " tokens"), r.err());
        Files.writeString(history, "[{\"user\": \"What is it?\"}]");
        CliRun bad = CliRun.run("generate", "--model", DemoFixture.checkpoint().toString(), "--prompt", "Why?", "--history", history.toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("history file " + history + ": \"history\"[0] must be {\"user\": \"..\", \"assistant\": \"..\"}"), bad.err());
        CliRun ids = CliRun.run("generate", "--model", TINY_A.toString(), "--prompt-ids", "1,2", "--history", history.toString());
        assertEquals(2, ids.status());
        assertTrue(ids.err().contains("--history needs --prompt"), ids.err());
    }

    @Test
    void videoFolder() throws IOException {
        // a 4-frame video folder of 56x56 frames on tiny-a: grid 2 x 4 x 4 -> 2 * 2 * 2 = 8 placeholders (video_token_id 2001)
        Path video = Files.createDirectories(tmp.resolve("video"));
        for (int f = 0; f < 4; f++) write(DemoImage.create(56, 56), video.resolve(f + ".jpg"), "jpg"); // JPEG frames
        int[] ids = {5, 1998, 2001, 2001, 2001, 2001, 2001, 2001, 2001, 2001, 1999, 7};
        CliRun r = CliRun.run("generate", "--model", TINY_A.toString(), "--prompt-ids", join(ids), "--video", video.toString(), "--fps", "2",
                "--max-new-tokens", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("prompt: 12 tokens, vision grids 2x4x4"), r.err());
    }

    @Test
    void scanNetScene() throws IOException {
        // 2 views of 60x60 depth (2 m wall) -> smart-resized to 56x56: grid 1 x 4 x 4 -> 1 * 2 * 2 = 4 placeholders
        Path scene = tmp.resolve("scene");
        for (String d : new String[] {"color", "depth", "pose", "intrinsic"}) Files.createDirectories(scene.resolve(d));
        Files.writeString(scene.resolve("intrinsic/intrinsic_depth.txt"), "50 0 29.5 0\n0 50 29.5 0\n0 0 1 0\n0 0 0 1\n");
        for (int f = 0; f < 2; f++) {
            BufferedImage depth = new BufferedImage(60, 60, BufferedImage.TYPE_USHORT_GRAY);
            for (int y = 0; y < 60; y++) for (int x = 0; x < 60; x++) depth.getRaster().setSample(x, y, 0, 2000);
            ImageIO.write(depth, "png", scene.resolve("depth/" + f + ".png").toFile());
            write(DemoImage.create(60, 60), scene.resolve("color/" + f + ".jpg"), "jpg"); // JPEG input
            Files.writeString(scene.resolve("pose/" + f + ".txt"), "1 0 0 " + f + "\n0 1 0 0\n0 0 1 0\n0 0 0 1\n");
        }
        int[] ids = {5, 1998, 2001, 2001, 2001, 2001, 1999, 7};
        CliRun r = CliRun.run("generate", "--model", TINY_A.toString(), "--prompt-ids", join(ids), "--scene", scene.toString(),
                "--scene-views", "2", "--max-new-tokens", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("prompt: 8 tokens, vision grids 1x4x4"), r.err());
    }

    static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}

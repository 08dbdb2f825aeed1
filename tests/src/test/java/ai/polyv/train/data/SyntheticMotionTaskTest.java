package ai.polyv.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.TrainExample;
import ai.polyv.tokenizer.Tokenizer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticMotionTaskTest {
    static Tokenizer tok;
    static PolyVConfig config;

    @BeforeAll
    static void load() {
        tok = SyntheticMotionTask.bundledTokenizer();
        config = SyntheticMotionTask.demoConfig(tok);
    }

    @Test
    void rowLayoutLabelsAndPictures() throws IOException {
        SyntheticMotionTask task = new SyntheticMotionTask(tok, config, SyntheticMotionTask.Options.DEFAULT);
        var s = new SyntheticMotionTask.Sample(SyntheticMotionTask.Colour.BLUE, SyntheticMotionTask.Direction.RIGHT, 10, 40);
        TrainRow row = task.row(s);
        int[] ids = row.inputIds();
        // the special ids of the bundled Qwen tokenizer are the config's
        assertEquals(config.tokens().visionStartTokenId(), tok.tokenId("<|vision_start|>"));
        assertEquals(config.tokens().imageTokenId(), tok.tokenId("<|image_pad|>"));
        assertEquals(config.tokens().videoTokenId(), tok.tokenId("<|video_pad|>"));
        assertEquals(16, Arrays.stream(ids).filter(i -> i == config.tokens().imageTokenId()).count());
        assertEquals(32, Arrays.stream(ids).filter(i -> i == config.tokens().videoTokenId()).count());
        assertEquals(2, Arrays.stream(ids).filter(i -> i == config.synergy().tokenId()).count());
        int first = 0;
        while (row.labels()[first] == -100) first++;
        int[] answer = Arrays.copyOfRange(ids, first, ids.length);
        assertArrayEquals(answer, Arrays.copyOfRange(row.labels(), first, ids.length));
        assertEquals("The blue square moves right.<|im_end|>", tok.decode(answer, false));
        int lastSynergy = first;
        while (ids[lastSynergy] != config.synergy().tokenId()) lastSynergy--; // synergy ids are past the tokenizer's vocabulary
        assertEquals(SyntheticMotionTask.QUESTION + "<|im_end|>\n<|im_start|>assistant\n",
                tok.decode(Arrays.copyOfRange(ids, lastSynergy + 1, first), false));
        // picture: blue square at (10, 40); last frame: moved 3 x 14 px right
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(row.images().getFirst()));
        assertEquals(112, img.getWidth());
        assertEquals(0x2846dc, img.getRGB(10, 40) & 0xffffff);
        assertEquals(0x808080, img.getRGB(9, 40) & 0xffffff);
        BufferedImage last = ImageIO.read(new ByteArrayInputStream(row.videos().getFirst().get(3)));
        assertEquals(0x2846dc, last.getRGB(52, 40) & 0xffffff);
        assertEquals(0x808080, last.getRGB(51, 40) & 0xffffff);
        assertEquals(2, row.teacherTemporal().length);
        assertEquals(1024, row.teacherTemporal()[0].length);
        assertEquals(2048, row.teacherSpatial()[1].length);
    }

    @Test
    void filesValidateAgainstTheDemoConfigAndAreDeterministic(@TempDir Path dir) throws IOException {
        SyntheticMotionTask task = new SyntheticMotionTask(tok, config, SyntheticMotionTask.Options.DEFAULT);
        task.writeSplits(dir.resolve("a"), 6, 2, 42);
        task.writeSplits(dir.resolve("b"), 6, 2, 42);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/train.arrow")), Files.readAllBytes(dir.resolve("b/train.arrow")));
        TrainDataset train = TrainDataset.open(dir.resolve("a/train.arrow"), config, new VisionPreprocessor());
        TrainDataset eval = TrainDataset.open(dir.resolve("a/eval.arrow"), config, new VisionPreprocessor());
        assertEquals(6, train.size());
        assertEquals(2, eval.size());
        TrainExample e = train.example(0);
        List<VisionInput> v = e.vision();
        assertEquals(new VisionInput.GridThw(1, 8, 8), v.get(0).grid());
        assertEquals(new VisionInput.GridThw(2, 8, 8), v.get(1).grid());
        assertEquals(1.0, v.get(1).secondsPerGrid()); // 2 fps
        assertEquals(2 * 1024, e.teacherTemporal().length);
        // the held-out split is drawn from another seed
        assertTrue(!Arrays.equals(train.row(0).images().getFirst(), eval.row(0).images().getFirst())
                || !Arrays.equals(train.row(0).inputIds(), eval.row(0).inputIds()));
    }

    @Test
    void datasetCommandsWriteAndCheck(@TempDir Path dir) {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        int made, checked;
        try {
            made = ai.polyv.cli.Main.run("dataset", "synthetic", "--out", dir.toString(), "--train", "3", "--eval", "1", "--seed", "4");
            checked = ai.polyv.cli.Main.run("dataset", "check", dir.resolve("train.arrow").toString());
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, made);
        assertEquals(0, checked);
        String out = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(out.contains("wrote " + dir.resolve("train.arrow") + " (3 rows) and " + dir.resolve("eval.arrow") + " (1 rows), 105 tokens per row"), out);
        assertTrue(out.contains(dir.resolve("train.arrow") + ": 3 rows OK, 315 tokens, 3 images, 3 videos, 3 rows with teacher features"), out);
    }
}

package ai.polyv.train.data;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.SynergyConfig;
import ai.polyv.core.demo.DemoWeights;
import ai.polyv.core.preprocess.VisionPreprocessor;
import ai.polyv.train.TrainExample;
import ai.polyv.tokenizer.Tokenizer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * A synthetic cross-modal task: "which colour moved where between the picture and the video".
 *
 * <p>Each sample has one image and one video of {@code size x size} pixels on a grey background. The
 * image shows a {@code square}-pixel square of one of four colours (red, green, blue, yellow) at a random
 * position; the video ({@code frames} frames at {@code fps}) starts from that picture and moves the square
 * {@code step} pixels per frame in one of four directions (left, right, up, down). The prompt, in the
 * Qwen2.5-VL chat template, is
 * <pre>
 *   &lt;|im_start|&gt;system\nYou are a helpful assistant.&lt;|im_end|&gt;\n&lt;|im_start|&gt;user\n
 *   &lt;|vision_start|&gt;&lt;|image_pad|&gt;x16&lt;|vision_end|&gt;&lt;|vision_start|&gt;&lt;|video_pad|&gt;x32&lt;|vision_end|&gt;
 *   &lt;synergy&gt;xS QUESTION (no space between)&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n
 * </pre>
 * followed by the answer {@code "The red square moves right."&lt;|im_end|&gt;}; only the answer and its
 * {@code <|im_end|>} are labels (the rest -100). Placeholder counts come from the grids (112x112:
 * 16 merged tokens per image, 4 frames = 2 temporal steps: 32 per video).
 *
 * <p>Teacher features (optional, one row per synergy token): the temporal teacher is a fixed random
 * projection (seeded, {@code N(0, 1/3)}) of the one-hot code (direction, synergy slot), the spatial
 * teacher a projection of (colour, 3x3 cell of the square's final centre, slot), both as wide as the
 * config's head outputs, so the heads have a learnable target tied to the motion and the layout.
 * Everything is drawn from {@code L64X128MixRandom(seed)}: the same seed gives byte-identical files.
 */
public final class SyntheticMotionTask {

    public static final String BUNDLED_TOKENIZER = "/ai/polyv/demo/qwen-tokenizer.json.gz";
    static final long TEACHER_SEED = 0x7eac_4e5L;

    public enum Colour {
        RED(220, 40, 40), GREEN(40, 180, 60), BLUE(40, 70, 220), YELLOW(230, 210, 40);

        final int r, g, b;

        Colour(int r, int g, int b) {
            this.r = r;
            this.g = g;
            this.b = b;
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Direction {
        LEFT(-1, 0), RIGHT(1, 0), UP(0, -1), DOWN(0, 1);

        final int dx, dy;

        Direction(int dx, int dy) {
            this.dx = dx;
            this.dy = dy;
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Picture geometry and prompt options.
     *
     * @param size          image/frame side in pixels (a multiple of 28)
     * @param frames        video frames (even)
     * @param square        side of the square in pixels
     * @param step          pixels moved per frame
     * @param fps           frame rate written to {@code video_fps}
     * @param synergyTokens synergy tokens in the prompt (0 = none, and no teacher features)
     * @param teachers      whether to write teacher features
     */
    public record Options(int size, int frames, int square, int step, float fps, int synergyTokens, boolean teachers) {
        public static final Options DEFAULT = new Options(112, 4, 28, 14, 2f, 2, true);

        public Options {
            if (size <= 0 || size % 28 != 0) throw new IllegalArgumentException("size must be a positive multiple of 28, got " + size);
            if (frames <= 0 || frames % 2 != 0) throw new IllegalArgumentException("frames must be positive and even, got " + frames);
            if (square <= 0 || square + step * (frames - 1) > size) {
                throw new IllegalArgumentException("a " + square + "-pixel square moving " + step + " px over " + frames + " frames does not fit in " + size);
            }
            if (!(fps > 0)) throw new IllegalArgumentException("fps must be positive, got " + fps);
            if (synergyTokens < 0) throw new IllegalArgumentException("synergy tokens must be >= 0, got " + synergyTokens);
        }
    }

    /** One drawn sample: colour, direction and the square's top-left corner in the picture. */
    public record Sample(Colour colour, Direction direction, int x, int y) {
        public String answer() {
            return "The " + colour.word() + " square moves " + direction.word() + ".";
        }
    }

    public static final String QUESTION = "The picture shows a coloured square and the video shows it moving. "
            + "Which colour is the square and which way does it move?";

    private final Tokenizer tokenizer;
    private final PolyVConfig config;
    private final Options options;

    public SyntheticMotionTask(Tokenizer tokenizer, PolyVConfig config, Options options) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.options = options;
        if (tokenizer.vocabSize() > config.text().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens, more than the model's vocab_size "
                    + config.text().vocabSize());
        }
        if (options.synergyTokens() > 0 && config.synergy() == null) {
            throw new IllegalArgumentException("the model config has no synergy token: use 0 synergy tokens");
        }
    }

    /** The real Qwen tokenizer bundled for the demo. */
    public static Tokenizer bundledTokenizer() {
        try (InputStream raw = SyntheticMotionTask.class.getResourceAsStream(BUNDLED_TOKENIZER)) {
            if (raw == null) throw new IllegalStateException("resource " + BUNDLED_TOKENIZER + " is missing from the runtime jar");
            try (InputStream in = new GZIPInputStream(raw)) {
                return Tokenizer.load(in, BUNDLED_TOKENIZER);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + BUNDLED_TOKENIZER + ": " + e.getMessage(), e);
        }
    }

    /** The demo model's config for the bundled tokenizer (ids {@code <|endoftext|>}, {@code <|im_end|>} stop). */
    public static PolyVConfig demoConfig(Tokenizer tokenizer) {
        return DemoWeights.config(tokenizer.vocabSize(), List.of(tokenizer.tokenId("<|endoftext|>"), tokenizer.tokenId("<|im_end|>")));
    }

    /** Draws one sample. */
    public Sample draw(RandomGenerator rng) {
        Colour c = Colour.values()[rng.nextInt(Colour.values().length)];
        Direction d = Direction.values()[rng.nextInt(Direction.values().length)];
        int travel = options.step() * (options.frames() - 1);
        int free = options.size() - options.square();
        int x = d.dx == 0 ? rng.nextInt(free + 1) : d.dx > 0 ? rng.nextInt(free - travel + 1) : travel + rng.nextInt(free - travel + 1);
        int y = d.dy == 0 ? rng.nextInt(free + 1) : d.dy > 0 ? rng.nextInt(free - travel + 1) : travel + rng.nextInt(free - travel + 1);
        return new Sample(c, d, x, y);
    }

    /** {@code n} rows from {@code seed}. */
    public List<TrainRow> rows(int n, long seed) {
        RandomGenerator rng = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        List<TrainRow> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(row(draw(rng)));
        return out;
    }

    /** Writes {@code train.arrow} and {@code eval.arrow} (seeds {@code seed} and {@code seed + 1}) into {@code dir}. */
    public void writeSplits(Path dir, int train, int eval, long seed) {
        TrainDataWriter.write(dir.resolve("train.arrow"), rows(train, seed));
        TrainDataWriter.write(dir.resolve("eval.arrow"), rows(eval, seed + 1));
    }

    /** The row of one sample. */
    public TrainRow row(Sample s) {
        int side = options.size() / VisionPreprocessor.PATCH / VisionPreprocessor.MERGE;
        int imageTokens = side * side;
        int videoTokens = options.frames() / VisionPreprocessor.TEMPORAL_PATCH * side * side;
        var t = config.tokens();
        List<Integer> ids = new ArrayList<>();
        add(ids, tokenizer.encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"));
        ids.add(t.visionStartTokenId());
        for (int i = 0; i < imageTokens; i++) ids.add(t.imageTokenId());
        ids.add(t.visionEndTokenId());
        ids.add(t.visionStartTokenId());
        for (int i = 0; i < videoTokens; i++) ids.add(t.videoTokenId());
        ids.add(t.visionEndTokenId());
        for (int i = 0; i < options.synergyTokens(); i++) ids.add(config.synergy().tokenId());
        add(ids, tokenizer.encode(QUESTION + "<|im_end|>\n<|im_start|>assistant\n"));
        int promptLength = ids.size();
        add(ids, tokenizer.encode(s.answer() + "<|im_end|>"));
        int[] inputIds = ids.stream().mapToInt(Integer::intValue).toArray();
        int[] labels = new int[inputIds.length];
        for (int i = 0; i < labels.length; i++) labels[i] = i < promptLength ? TrainExample.IGNORE_INDEX : inputIds[i];

        List<byte[]> video = new ArrayList<>();
        for (int f = 0; f < options.frames(); f++) {
            video.add(png(s.x() + s.direction().dx * options.step() * f, s.y() + s.direction().dy * options.step() * f, s.colour()));
        }
        float[][] temporal = null, spatial = null;
        if (options.teachers() && options.synergyTokens() > 0) {
            SynergyConfig syn = config.synergy();
            int travel = options.step() * (options.frames() - 1);
            int cx = s.x() + s.direction().dx * travel + options.square() / 2;
            int cy = s.y() + s.direction().dy * travel + options.square() / 2;
            int cell = Math.min(2, cy * 3 / options.size()) * 3 + Math.min(2, cx * 3 / options.size());
            temporal = teacher(syn.temporal().outSize(), "temporal", new int[] {s.direction().ordinal()}, 4);
            spatial = teacher(syn.spatial().outSize(), "spatial", new int[] {s.colour().ordinal(), 4 + cell}, 4 + 9);
        }
        return new TrainRow(inputIds, labels, List.of(png(s.x(), s.y(), s.colour())), List.of(video), options.fps(), temporal, spatial);
    }

    /** Rows {@code P * onehot(hot ++ slot)}, {@code P [width, codes + S]} fixed per head. */
    private float[][] teacher(int width, String head, int[] hot, int codes) {
        int s = options.synergyTokens();
        int dim = codes + s;
        RandomGenerator r = RandomGeneratorFactory.of("L64X128MixRandom").create(TEACHER_SEED ^ head.hashCode());
        float[] p = new float[width * dim]; // [width, dim]
        double std = 1 / Math.sqrt(3);
        for (int i = 0; i < p.length; i++) p[i] = (float) (r.nextGaussian() * std);
        float[][] out = new float[s][width];
        for (int k = 0; k < s; k++) {
            for (int i = 0; i < width; i++) {
                float v = p[i * dim + codes + k];
                for (int h : hot) v += p[i * dim + h];
                out[k][i] = v;
            }
        }
        return out;
    }

    private byte[] png(int x, int y, Colour c) {
        BufferedImage img = new BufferedImage(options.size(), options.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(new Color(128, 128, 128));
            g.fillRect(0, 0, options.size(), options.size());
            g.setColor(new Color(c.r, c.g, c.b));
            g.fillRect(x, y, options.square(), options.square());
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer in this JDK");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void add(List<Integer> ids, int[] part) {
        for (int id : part) ids.add(id);
    }
}

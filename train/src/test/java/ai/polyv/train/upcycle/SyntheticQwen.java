package ai.polyv.train.upcycle;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.TokenIds;
import ai.polyv.loader.config.VisionConfig;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorOutput;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.core.demo.DemoWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Dense Qwen2.5-VL checkpoints for the upcycling tests: the hub tensor list of a config (from
 * {@link DemoWeights#tensors}), values generated on the fly from (seed, name) so a checkpoint of any size is
 * written without holding it in heap. Norm weights are 1 + 0.1 g, biases 0.02 g, other weights std g
 * (g standard normal from {@code L64X128MixRandom(seed ^ name.hashCode())}).
 */
public final class SyntheticQwen {
    private SyntheticQwen() {
    }

    /** A small dense config: hidden 64 (4 heads of 16, 2 KV heads), FFN {@code inter}, {@code layers} layers, vocab 300. */
    public static PolyVConfig config(int layers, int inter) {
        return config(64, inter, layers, 4, 2, 300, 32);
    }

    public static PolyVConfig config(int hidden, int inter, int layers, int heads, int kvHeads, int vocab, int visionHidden) {
        int half = hidden / heads / 2;
        int t = half / 4;
        int h = (half - t) / 2;
        TextConfig text = new TextConfig(hidden, inter, layers, heads, kvHeads, vocab, 1e-6, 1_000_000.0,
                new int[] {t, h, half - t - h}, 512, false, "silu");
        VisionConfig vision = new VisionConfig(1, visionHidden, 2 * visionHidden, 2, hidden, 14, 2, 2, 112, new int[] {0}, 2, 3, "silu");
        TokenIds ids = new TokenIds(vocab - 10, vocab - 9, vocab - 12, vocab - 11, vocab - 20, List.of(vocab - 19));
        return new PolyVConfig(text, vision, null, null, null, ids);
    }

    /**
     * Writes config.json (hub-flat, architecture Qwen2_5_VLForConditionalGeneration), a tokenizer.json stub and
     * the weights: one file when {@code maxShardBytes <= 0}, else sharded with an index.
     */
    public static Path write(Path dir, PolyVConfig c, DType dtype, long seed, double std, long maxShardBytes) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), c.toJson().replace(Upcycler.ARCHITECTURE, "Qwen2_5_VLForConditionalGeneration"));
            Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, TensorSource> tensors = new TreeMap<>();
        for (DemoWeights.TensorSpec s : DemoWeights.tensors(c)) {
            tensors.put(s.name(), source(s, dtype, seed, std));
        }
        if (maxShardBytes <= 0) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        } else {
            SafetensorsWriter.writeSharded(dir, tensors, Map.of("format", "pt"), maxShardBytes);
        }
        return dir;
    }

    private static TensorSource source(DemoWeights.TensorSpec s, DType dtype, long seed, double std) {
        return new TensorSource() {
            @Override
            public DType dtype() {
                return dtype;
            }

            @Override
            public long[] shape() {
                return s.shape();
            }

            @Override
            public void writeTo(TensorOutput out) throws IOException {
                RandomGenerator g = RandomGeneratorFactory.of("L64X128MixRandom").create(seed ^ s.name().hashCode());
                float[] buf = new float[1 << 14];
                for (long done = 0; done < s.numel(); done += buf.length) {
                    int n = (int) Math.min(buf.length, s.numel() - done);
                    for (int i = 0; i < n; i++) {
                        double v = g.nextGaussian();
                        buf[i] = (float) switch (s.init()) {
                            case ONES -> 1 + 0.1 * v;
                            case ZEROS -> 0.02 * v;
                            case NORMAL -> std * v;
                        };
                    }
                    out.writeFloats(dtype, buf, 0, n);
                }
            }
        };
    }
}

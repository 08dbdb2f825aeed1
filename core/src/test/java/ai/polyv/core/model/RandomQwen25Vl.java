package ai.polyv.core.model;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small random dense Qwen2.5-VL checkpoint whose config.json has exactly the keys of
 * {@code Qwen/Qwen2.5-VL-7B-Instruct}'s (architectures Qwen2_5_VLForConditionalGeneration, model_type qwen2_5_vl,
 * vision_config, rope_scaling with mrope_section, ...; no moe, synergy or position_3d), with small sizes and
 * token ids inside a 320-id vocabulary. Written in either hub naming: {@link HubNaming#ORIGINAL} with the
 * hub-flat config of transformers 4.x, {@link HubNaming#TRANSFORMERS_5} with the nested {@code text_config}
 * that transformers 5 writes. The same seed gives the same weights in both.
 */
public final class RandomQwen25Vl {
    private RandomQwen25Vl() {}

    /** Qwen2.5-VL-7B-Instruct's config.json (transformers 4.x form), every key kept, sizes shrunk. */
    public static final String ORIGINAL_CONFIG = """
            {
              "architectures": ["Qwen2_5_VLForConditionalGeneration"],
              "attention_dropout": 0.0,
              "bos_token_id": 306,
              "eos_token_id": 307,
              "vision_start_token_id": 301,
              "vision_end_token_id": 302,
              "vision_token_id": 303,
              "image_token_id": 304,
              "video_token_id": 305,
              "hidden_act": "silu",
              "hidden_size": 64,
              "initializer_range": 0.02,
              "intermediate_size": 96,
              "max_position_embeddings": 1024,
              "max_window_layers": 2,
              "model_type": "qwen2_5_vl",
              "num_attention_heads": 4,
              "num_hidden_layers": 2,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "sliding_window": 1024,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.41.2",
              "use_cache": true,
              "use_sliding_window": false,
              "vision_config": {
                "depth": 2,
                "hidden_act": "silu",
                "hidden_size": 32,
                "intermediate_size": 48,
                "num_heads": 2,
                "in_chans": 3,
                "out_hidden_size": 64,
                "patch_size": 14,
                "spatial_merge_size": 2,
                "spatial_patch_size": 14,
                "window_size": 112,
                "fullatt_block_indexes": [1],
                "tokens_per_second": 2,
                "temporal_patch_size": 2
              },
              "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
              "vocab_size": 320
            }
            """;

    /** The same model's config.json as transformers 5 writes it: text keys nested in text_config, rope_parameters. */
    public static final String TRANSFORMERS_5_CONFIG = """
            {
              "architectures": ["Qwen2_5_VLForConditionalGeneration"],
              "vision_start_token_id": 301,
              "vision_end_token_id": 302,
              "image_token_id": 304,
              "video_token_id": 305,
              "model_type": "qwen2_5_vl",
              "dtype": "bfloat16",
              "tie_word_embeddings": false,
              "transformers_version": "5.0.0",
              "vision_config": {
                "depth": 2,
                "hidden_act": "silu",
                "hidden_size": 32,
                "intermediate_size": 48,
                "num_heads": 2,
                "in_chans": 3,
                "out_hidden_size": 64,
                "patch_size": 14,
                "spatial_merge_size": 2,
                "window_size": 112,
                "fullatt_block_indexes": [1],
                "tokens_per_second": 2,
                "temporal_patch_size": 2,
                "model_type": "qwen2_5_vl"
              },
              "text_config": {
                "hidden_size": 64,
                "intermediate_size": 96,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "vocab_size": 320,
                "rms_norm_eps": 1e-06,
                "max_position_embeddings": 1024,
                "hidden_act": "silu",
                "bos_token_id": 306,
                "eos_token_id": 307,
                "tie_word_embeddings": false,
                "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
                "model_type": "qwen2_5_vl_text"
              }
            }
            """;

    /**
     * Writes config.json and model.safetensors (F32) into {@code dir}: every tensor of the layout in layout order,
     * norms 1 + N(0, 0.1), everything else N(0, 0.1), from one seeded generator.
     */
    public static Path write(Path dir, HubNaming naming, long seed) {
        String json = naming == HubNaming.ORIGINAL ? ORIGINAL_CONFIG : TRANSFORMERS_5_CONFIG;
        PolyVConfig config = PolyVConfig.parse(json, "config.json");
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        for (TensorSpec s : WeightLayout.expected(config)) {
            float[] v = new float[Math.toIntExact(s.numel())];
            float base = s.role() == TensorSpec.Role.NORM ? 1f : 0f;
            for (int i = 0; i < v.length; i++) v[i] = base + (float) (0.1 * gaussian(rng));
            tensors.put(naming.stored(s.name()), TensorData.f32(s.shape(), v));
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return dir;
    }

    private static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble(), w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }
}

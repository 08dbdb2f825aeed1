package ai.polyv.loader.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A PolyV model's config.json: the Qwen2.5-VL backbone plus PolyV's optional {@code moe}, {@code synergy} and
 * {@code position_3d} objects (docs/spec.md §3).
 *
 * <p>Two layouts are read: hub-flat (text keys at top level, {@code vision_config} nested; the golden data's
 * form) and nested ({@code text_config} holding the text keys; a text key is looked up there first, then at
 * top level). Absent keys take the values HF uses (rms_norm_eps 1e-6, rope_theta 1e6, num_key_value_heads =
 * num_attention_heads, tie_word_embeddings false, Qwen2.5-VL-7B vision defaults and token ids); the sizes
 * hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size and the M-RoPE split are
 * required. Every record checks its own invariants; this record checks the cross-section ones (merger width
 * = decoder width, MoE layers < num_hidden_layers, token ids < vocab_size, 3D merge pixels =
 * patch_size * spatial_merge_size). Errors are {@link ConfigException}s naming the file and the field. Reading and
 * writing the JSON is {@link ConfigJson}'s; the methods here delegate to it.
 *
 * @param text       decoder hyper-parameters
 * @param vision     vision encoder hyper-parameters
 * @param moe        sparse MoE FFN, null for a dense model
 * @param synergy    synergy token and alignment heads, null if absent
 * @param position3d 3D positional encoding, null if absent
 * @param tokens     special token ids
 * @param raw        the JSON this config was read from (null when built in code); kept so {@link #toJson()}
 *                   preserves keys polyv does not model (architectures, torch_dtype, ...). Not part of equals.
 */
public record PolyVConfig(TextConfig text, VisionConfig vision, MoeConfig moe, SynergyConfig synergy,
                          Position3dConfig position3d, TokenIds tokens, JsonNode raw) {
    public static final String FILE_NAME = "config.json";


    public PolyVConfig {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(vision, "vision");
        Objects.requireNonNull(tokens, "tokens");
        raw = raw == null ? null : raw.deepCopy();
        ConfigException.require(vision.outHiddenSize() == text.hiddenSize(), "vision_config.out_hidden_size",
                "the decoder hidden_size " + text.hiddenSize(), vision.outHiddenSize());
        if (moe != null) {
            for (int l : moe.layers()) {
                ConfigException.require(l < text.numLayers(), "moe.layers",
                        "layer indexes in [0, num_hidden_layers=" + text.numLayers() + ")", java.util.Arrays.toString(moe.layers()));
            }
        }
        int vocab = text.vocabSize();
        checkToken("image_token_id", tokens.imageTokenId(), vocab);
        checkToken("video_token_id", tokens.videoTokenId(), vocab);
        checkToken("vision_start_token_id", tokens.visionStartTokenId(), vocab);
        checkToken("vision_end_token_id", tokens.visionEndTokenId(), vocab);
        if (tokens.bosTokenId() != null) {
            checkToken("bos_token_id", tokens.bosTokenId(), vocab);
        }
        for (int e : tokens.eosTokenIds()) {
            checkToken("eos_token_id", e, vocab);
        }
        if (synergy != null) {
            checkToken("synergy.token_id", synergy.tokenId(), vocab);
        }
        if (position3d != null) {
            int unit = vision.patchSize() * vision.spatialMergeSize();
            ConfigException.require(position3d.mergePixels() == unit, "position_3d.merge_pixels",
                    "patch_size*spatial_merge_size = " + unit, position3d.mergePixels());
        }
    }

    /** Same config built in code, without raw JSON. */
    public PolyVConfig(TextConfig text, VisionConfig vision, MoeConfig moe, SynergyConfig synergy,
                       Position3dConfig position3d, TokenIds tokens) {
        this(text, vision, moe, synergy, position3d, tokens, null);
    }

    private static void checkToken(String field, int id, int vocab) {
        ConfigException.require(id >= 0 && id < vocab, field, "a token id in [0, vocab_size=" + vocab + ")", id);
    }

    /** A copy of the JSON this config was read from, or null. */
    @Override
    public JsonNode raw() {
        return raw == null ? null : raw.deepCopy();
    }

    public boolean isMoe() {
        return moe != null;
    }

    /** True if decoder layer {@code layer} has an MoE FFN. */
    public boolean isMoeLayer(int layer) {
        return moe != null && moe.isMoeLayer(layer);
    }

    /** {@code torch_dtype} (or {@code dtype}) from the raw JSON, or null. */
    public String torchDtype() {
        if (raw == null) {
            return null;
        }
        JsonNode n = raw.has("torch_dtype") ? raw.get("torch_dtype") : raw.get("dtype");
        return n != null && n.isTextual() ? n.textValue() : null;
    }

    public PolyVConfig withMoe(MoeConfig newMoe) {
        return new PolyVConfig(text, vision, newMoe, synergy, position3d, tokens, raw);
    }

    public PolyVConfig withSynergy(SynergyConfig newSynergy) {
        return new PolyVConfig(text, vision, moe, newSynergy, position3d, tokens, raw);
    }

    public PolyVConfig withPosition3d(Position3dConfig newPosition3d) {
        return new PolyVConfig(text, vision, moe, synergy, newPosition3d, tokens, raw);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PolyVConfig c && text.equals(c.text) && vision.equals(c.vision) && Objects.equals(moe, c.moe)
                && Objects.equals(synergy, c.synergy) && Objects.equals(position3d, c.position3d)
                && tokens.equals(c.tokens);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, vision, moe, synergy, position3d, tokens);
    }

    @Override
    public String toString() {
        return "PolyVConfig[text=" + text + ", vision=" + vision + ", moe=" + moe + ", synergy=" + synergy
                + ", position3d=" + position3d + ", tokens=" + tokens + "]";
    }

    // ---------------------------------------------------------------- JSON (ConfigJson)

    /** Reads {@code config.json}, given the file or the folder holding it ({@link ConfigJson#load}). */
    public static PolyVConfig load(Path configJsonOrDir) {
        return ConfigJson.load(configJsonOrDir);
    }

    /** Parses config JSON; {@code sourceName} is named in error messages ({@link ConfigJson#parse}). */
    public static PolyVConfig parse(String json, String sourceName) {
        return ConfigJson.parse(json, sourceName);
    }

    /** This config as config.json text ({@link ConfigJson#toJson}); {@code parse(toJson())} equals this config. */
    public String toJson() {
        return ConfigJson.toJson(this);
    }

    /** Writes {@link #toJson()} to {@code file} atomically ({@link ConfigJson#save}). */
    public void save(Path file) {
        ConfigJson.save(this, file);
    }
}

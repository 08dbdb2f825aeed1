package ai.polyv.loader.config;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * config.json reading and writing for {@link PolyVConfig}: the record holds the values and checks them, this
 * class maps them to and from JSON (Jackson). {@code PolyVConfig.load/parse/toJson/save} delegate here.
 * The layouts read, the defaults and the errors are described on {@link PolyVConfig}.
 */
public final class ConfigJson {
    private ConfigJson() {}

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    // ---------------------------------------------------------------- reading

    /**
     * Reads {@code config.json}, given the file or the folder holding it.
     *
     * @throws ConfigException naming the file for an unreadable, malformed or invalid config
     */
    public static PolyVConfig load(Path configJsonOrDir) {
        Path file = Files.isDirectory(configJsonOrDir) ? configJsonOrDir.resolve(PolyVConfig.FILE_NAME) : configJsonOrDir;
        String problem = PathChecks.notARegularFile(file);
        if (problem != null) throw new ConfigException("config " + file + " " + problem);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read config: " + e, e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses config JSON.
     *
     * @param sourceName named in error messages (a file name)
     */
    public static PolyVConfig parse(String json, String sourceName) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new ConfigException(sourceName + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(sourceName + ": expected a JSON object");
        }
        try {
            return fromJson((ObjectNode) root);
        } catch (ConfigException e) {
            throw new ConfigException(sourceName + ": " + e.getMessage(), e);
        }
    }

    private static PolyVConfig fromJson(ObjectNode root) {
        Fields top = new Fields(root, "", null);
        JsonNode tc = root.get("text_config");
        if (tc != null && !tc.isNull() && !tc.isObject()) {
            throw ConfigException.field("text_config", "an object", tc.getNodeType());
        }
        // text keys: text_config first (nested form), then top level (hub-flat form)
        Fields t = tc != null && tc.isObject() ? new Fields((ObjectNode) tc, "text_config.", top) : top;

        int heads = t.reqInt("num_attention_heads");
        JsonNode rope = t.node("rope_parameters");
        String ropeField = "rope_parameters";
        if (rope == null || rope.isNull()) {
            rope = t.node("rope_scaling");
            ropeField = "rope_scaling";
        }
        if (rope == null || !rope.isObject()) {
            throw ConfigException.field("rope_scaling.mrope_section", "an array of 3 integers (M-RoPE split)",
                    rope == null ? "nothing (missing)" : rope.getNodeType());
        }
        Fields r = new Fields((ObjectNode) rope, ropeField + ".", null);
        int[] mrope = r.reqIntArray("mrope_section");
        double theta = r.has("rope_theta") ? r.dbl("rope_theta", 1e6) : t.dbl("rope_theta", 1e6);
        TextConfig text = new TextConfig(
                t.reqInt("hidden_size"), t.reqInt("intermediate_size"), t.reqInt("num_hidden_layers"), heads,
                t.integer("num_key_value_heads", heads), t.reqInt("vocab_size"), t.dbl("rms_norm_eps", 1e-6), theta,
                mrope, t.integer("max_position_embeddings", 32768), t.bool("tie_word_embeddings", false),
                t.string("hidden_act", "silu"));

        VisionConfig d = VisionConfig.qwen25vl7b();
        VisionConfig vision = d;
        JsonNode vc = root.get("vision_config");
        if (vc != null && !vc.isNull()) {
            if (!vc.isObject()) {
                throw ConfigException.field("vision_config", "an object", vc.getNodeType());
            }
            Fields v = new Fields((ObjectNode) vc, "vision_config.", null);
            vision = new VisionConfig(v.integer("depth", d.depth()), v.integer("hidden_size", d.hiddenSize()),
                    v.integer("intermediate_size", d.intermediateSize()), v.integer("num_heads", d.numHeads()),
                    v.integer("out_hidden_size", d.outHiddenSize()), v.integer("patch_size", d.patchSize()),
                    v.integer("spatial_merge_size", d.spatialMergeSize()),
                    v.integer("temporal_patch_size", d.temporalPatchSize()), v.integer("window_size", d.windowSize()),
                    v.has("fullatt_block_indexes") ? v.reqIntArray("fullatt_block_indexes") : d.fullattBlockIndexes(),
                    v.integer("tokens_per_second", d.tokensPerSecond()),
                    v.integer("in_chans", v.integer("in_channels", d.inChans())), v.string("hidden_act", "silu"));
        }

        MoeConfig moe = null;
        Fields m = top.object("moe");
        if (m != null) {
            moe = new MoeConfig(m.reqIntArray("layers"), m.reqInt("num_experts"), m.reqInt("top_k"),
                    m.bool("norm_topk_prob", false), m.dbl("aux_loss_coef", 0.01));
        }
        SynergyConfig synergy = null;
        Fields s = top.object("synergy");
        if (s != null) {
            Fields hs = s.object("heads");
            if (hs == null) {
                throw ConfigException.field("synergy.heads", "an object with temporal and spatial", "nothing (missing)");
            }
            synergy = new SynergyConfig(s.reqInt("token_id"), head(hs, "temporal"), head(hs, "spatial"));
            if (top.has("synergy_token_id") && top.reqInt("synergy_token_id") != synergy.tokenId()) {
                throw ConfigException.field("synergy_token_id", "the same id as synergy.token_id " + synergy.tokenId(),
                        top.reqInt("synergy_token_id"));
            }
        }
        Position3dConfig pos = null;
        Fields p = top.object("position_3d");
        if (p != null) {
            pos = new Position3dConfig(p.string("encoding", "sincos"), p.dbl("base", 10000.0),
                    p.integer("merge_pixels", vision.patchSize() * vision.spatialMergeSize()));
        }
        // token ids: top level first (where HF writes them), then text_config
        Fields k = tc != null && tc.isObject() ? new Fields(root, "", new Fields((ObjectNode) tc, "text_config.", null)) : top;
        Integer bos = k.has("bos_token_id") && !k.node("bos_token_id").isNull() ? k.reqInt("bos_token_id") : null;
        List<Integer> eos = new ArrayList<>();
        JsonNode e = k.node("eos_token_id");
        if (e != null && !e.isNull()) {
            if (e.isArray()) {
                for (int id : k.reqIntArray("eos_token_id")) {
                    eos.add(id);
                }
            } else {
                eos.add(k.reqInt("eos_token_id"));
            }
        }
        TokenIds tokens = new TokenIds(k.integer("image_token_id", 151655), k.integer("video_token_id", 151656),
                k.integer("vision_start_token_id", 151652), k.integer("vision_end_token_id", 151653), bos, eos);
        return new PolyVConfig(text, vision, moe, synergy, pos, tokens, root);
    }

    private static SynergyConfig.HeadSize head(Fields heads, String name) {
        Fields h = heads.object(name);
        if (h == null) {
            throw ConfigException.field("synergy.heads." + name, "an object with hidden_size and out_size", "nothing (missing)");
        }
        return new SynergyConfig.HeadSize(h.reqInt("hidden_size"), h.reqInt("out_size"));
    }

    /** Typed access to one JSON object's fields, with the field path in every error; falls back to {@code parent}. */
    private record Fields(ObjectNode obj, String prefix, Fields fallback) {
        JsonNode node(String key) {
            JsonNode n = obj.get(key);
            if (n == null && fallback != null) {
                return fallback.node(key);
            }
            return n;
        }

        String path(String key) {
            if (obj.get(key) == null && fallback != null && fallback.node(key) != null) {
                return fallback.path(key);
            }
            return prefix + key;
        }

        boolean has(String key) {
            JsonNode n = node(key);
            return n != null;
        }

        int reqInt(String key) {
            JsonNode n = node(key);
            if (n == null) {
                throw ConfigException.field(path(key), "an integer", "nothing (missing)");
            }
            return toInt(n, path(key));
        }

        int integer(String key, int dflt) {
            JsonNode n = node(key);
            return n == null || n.isNull() ? dflt : toInt(n, path(key));
        }

        double dbl(String key, double dflt) {
            return optional(key, dflt, JsonNode::isNumber, "a number", JsonNode::doubleValue);
        }

        boolean bool(String key, boolean dflt) {
            return optional(key, dflt, JsonNode::isBoolean, "true or false", JsonNode::booleanValue);
        }

        String string(String key, String dflt) {
            return optional(key, dflt, JsonNode::isTextual, "a string", JsonNode::textValue);
        }

        /** {@code dflt} when the field is missing or null; its value when {@code isType}; else an error naming the field and {@code expected}. */
        private <T> T optional(String key, T dflt, Predicate<JsonNode> isType, String expected, Function<JsonNode, T> value) {
            JsonNode n = node(key);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!isType.test(n)) {
                throw ConfigException.field(path(key), expected, n);
            }
            return value.apply(n);
        }

        int[] reqIntArray(String key) {
            JsonNode n = node(key);
            if (n == null || !n.isArray()) {
                throw ConfigException.field(path(key), "an array of integers", n == null ? "nothing (missing)" : n);
            }
            int[] out = new int[n.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = toInt(n.get(i), path(key) + "[" + i + "]");
            }
            return out;
        }

        Fields object(String key) {
            JsonNode n = node(key);
            if (n == null || n.isNull()) {
                return null;
            }
            if (!n.isObject()) {
                throw ConfigException.field(path(key), "an object", n.getNodeType());
            }
            return new Fields((ObjectNode) n, path(key) + ".", null);
        }

        private static int toInt(JsonNode n, String field) {
            if (!n.isNumber() || !n.canConvertToExactIntegral() || !n.canConvertToInt()) {
                throw ConfigException.field(field, "a 32-bit integer", n);
            }
            return n.intValue();
        }
    }

    // ---------------------------------------------------------------- writing

    /**
     * A config as config.json text: the raw JSON it was read from (if any) with every modelled key
     * overwritten from the records, in the same layout (text keys in {@code text_config} if it was nested,
     * else at top level); {@code moe}, {@code synergy}, {@code position_3d} written or removed to match.
     * {@code parse(toJson(c))} equals {@code c}.
     */
    public static String toJson(PolyVConfig c) {
        TextConfig text = c.text();
        VisionConfig vision = c.vision();
        MoeConfig moe = c.moe();
        SynergyConfig synergy = c.synergy();
        Position3dConfig position3d = c.position3d();
        TokenIds tokens = c.tokens();
        JsonNode raw = c.raw();
        ObjectNode root = raw != null && raw.isObject() ? (ObjectNode) raw.deepCopy() : newHubRoot();
        ObjectNode tc = root.get("text_config") instanceof ObjectNode o ? o : null;
        Writer w = new Writer(root, tc);
        w.text("hidden_size", text.hiddenSize());
        w.text("intermediate_size", text.intermediateSize());
        w.text("num_hidden_layers", text.numLayers());
        w.text("num_attention_heads", text.numHeads());
        w.text("num_key_value_heads", text.numKvHeads());
        w.text("hidden_act", text.hiddenAct());
        w.text("rms_norm_eps", text.rmsNormEps());
        w.text("max_position_embeddings", text.maxPositionEmbeddings());
        w.text("vocab_size", text.vocabSize());
        w.text("tie_word_embeddings", text.tieWordEmbeddings());
        ObjectNode textTarget = tc != null ? tc : root;
        if (textTarget.get("rope_parameters") instanceof ObjectNode rp) {
            rp.put("rope_theta", text.ropeTheta());
            rp.set("mrope_section", ints(text.mropeSection()));
        } else {
            w.text("rope_theta", text.ropeTheta());
            ObjectNode rs = textTarget.get("rope_scaling") instanceof ObjectNode o ? o : textTarget.putObject("rope_scaling");
            if (!rs.has("type") && !rs.has("rope_type")) {
                rs.put("type", "mrope");
            }
            rs.set("mrope_section", ints(text.mropeSection()));
            if (tc != null && root.get("rope_scaling") instanceof ObjectNode top) {
                top.set("mrope_section", ints(text.mropeSection()));
            }
        }
        w.token("image_token_id", tokens.imageTokenId());
        w.token("video_token_id", tokens.videoTokenId());
        w.token("vision_start_token_id", tokens.visionStartTokenId());
        w.token("vision_end_token_id", tokens.visionEndTokenId());
        if (tokens.bosTokenId() != null) {
            w.token("bos_token_id", JsonNodeFactory.instance.numberNode(tokens.bosTokenId()));
        }
        if (!tokens.eosTokenIds().isEmpty()) {
            w.token("eos_token_id", tokens.eosTokenIds().size() == 1
                    ? JsonNodeFactory.instance.numberNode(tokens.eosTokenIds().getFirst())
                    : ints(tokens.eosTokenIds().stream().mapToInt(Integer::intValue).toArray()));
        }
        ObjectNode vc = root.get("vision_config") instanceof ObjectNode o ? o : root.putObject("vision_config");
        vc.put("depth", vision.depth());
        vc.put("hidden_size", vision.hiddenSize());
        vc.put("intermediate_size", vision.intermediateSize());
        vc.put("num_heads", vision.numHeads());
        vc.put("out_hidden_size", vision.outHiddenSize());
        vc.put("patch_size", vision.patchSize());
        vc.put("spatial_merge_size", vision.spatialMergeSize());
        vc.put("temporal_patch_size", vision.temporalPatchSize());
        vc.put("tokens_per_second", vision.tokensPerSecond());
        vc.put("window_size", vision.windowSize());
        vc.set("fullatt_block_indexes", ints(vision.fullattBlockIndexes()));
        vc.put("hidden_act", vision.hiddenAct());
        vc.put(vc.has("in_channels") && !vc.has("in_chans") ? "in_channels" : "in_chans", vision.inChans());
        if (moe != null) {
            ObjectNode m = root.putObject("moe");
            m.set("layers", ints(moe.layers()));
            m.put("num_experts", moe.numExperts());
            m.put("top_k", moe.topK());
            m.put("norm_topk_prob", moe.normTopkProb());
            m.put("aux_loss_coef", moe.auxLossCoef());
        } else {
            root.remove("moe");
        }
        if (synergy != null) {
            root.put("synergy_token_id", synergy.tokenId());
            ObjectNode s = root.putObject("synergy");
            s.put("token_id", synergy.tokenId());
            ObjectNode heads = s.putObject("heads");
            for (var e : List.of(java.util.Map.entry("temporal", synergy.temporal()),
                    java.util.Map.entry("spatial", synergy.spatial()))) {
                ObjectNode h = heads.putObject(e.getKey());
                h.put("hidden_size", e.getValue().hiddenSize());
                h.put("out_size", e.getValue().outSize());
            }
        } else {
            root.remove("synergy");
            root.remove("synergy_token_id");
        }
        if (position3d != null) {
            ObjectNode p = root.putObject("position_3d");
            p.put("encoding", position3d.encoding());
            p.put("base", position3d.base());
            p.put("merge_pixels", position3d.mergePixels());
        } else {
            root.remove("position_3d");
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Writes {@link #toJson(PolyVConfig)} to {@code file} atomically (temp file in the same folder, fsync, rename). */
    public static void save(PolyVConfig c, Path file) {
        try {
            AtomicFiles.writeString(file, toJson(c));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot write config: " + e, e);
        }
    }

    private static ObjectNode newHubRoot() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putArray("architectures").add("PolyVForConditionalGeneration");
        root.put("model_type", "qwen2_5_vl");
        return root;
    }

    private static ArrayNode ints(int[] values) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    /** Writes text keys where the layout keeps them (text_config if nested, also the top level if present there). */
    private record Writer(ObjectNode root, ObjectNode tc) {
        void text(String key, Object value) {
            JsonNode v = JSON.valueToTree(value);
            if (tc != null) {
                tc.set(key, v);
                if (root.has(key)) {
                    root.set(key, v);
                }
            } else {
                root.set(key, v);
            }
        }

        void token(String key, Object value) {
            JsonNode v = value instanceof JsonNode j ? j : JSON.valueToTree(value);
            root.set(key, v);
            if (tc != null && tc.has(key)) {
                tc.set(key, v);
            }
        }
    }
}

package ai.polyv.loader.layout;

import ai.polyv.loader.config.ConfigException;
import ai.polyv.loader.config.PolyVConfig;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A family of models polyv runs, chosen from config.json's {@code architectures} (else {@code model_type}) by
 * {@link #of}: what the family's config may declare and the {@link WeightLayout} of its tensors. The decoder,
 * the sessions and the training objective work on the layout, so a new family is one more entry in
 * {@link #REGISTERED}.
 */
public interface ModelFamily {

    /** For people: "PolyV", "Qwen2.5-VL". */
    String name();

    /** The config.json {@code architectures} values of this family. */
    List<String> architectures();

    /** The config.json {@code model_type} values this family takes when {@code architectures} is absent. */
    List<String> modelTypes();

    /** Checks what the config declares against what the family has; a {@link ConfigException} names the field. */
    void check(PolyVConfig config);

    /** The tensors of a model of this config (after {@link #check}). */
    default WeightLayout<TensorSpec, TensorSpec> layout(PolyVConfig config) {
        check(config);
        return WeightLayout.of(config);
    }

    /** PolyV: Qwen2.5-VL with MoE FFN layers, synergy heads and 3D PE (each optional in config.json). */
    ModelFamily POLYV = new ModelFamily() {
        @Override
        public String name() {
            return "PolyV";
        }

        @Override
        public List<String> architectures() {
            return List.of("PolyVForConditionalGeneration");
        }

        @Override
        public List<String> modelTypes() {
            return List.of();
        }

        @Override
        public void check(PolyVConfig config) {}

        @Override
        public String toString() {
            return name();
        }
    };

    /**
     * Plain dense Qwen2.5-VL as published ({@code Qwen/Qwen2.5-VL-3B-Instruct}, {@code -7B-Instruct}, ...): no MoE,
     * no synergy heads, no 3D PE.
     */
    ModelFamily QWEN2_5_VL = new ModelFamily() {
        @Override
        public String name() {
            return "Qwen2.5-VL";
        }

        @Override
        public List<String> architectures() {
            return List.of("Qwen2_5_VLForConditionalGeneration");
        }

        @Override
        public List<String> modelTypes() {
            return List.of("qwen2_5_vl");
        }

        @Override
        public void check(PolyVConfig config) {
            String arch = architectures().getFirst();
            if (config.moe() != null) throw notDense("moe", arch);
            if (config.synergy() != null) throw notDense("synergy", arch);
            if (config.position3d() != null) throw notDense("position_3d", arch);
        }

        private static ConfigException notDense(String field, String arch) {
            return new ConfigException("architectures: " + arch + " is dense Qwen2.5-VL, but config.json has a \"" + field
                    + "\" object (a PolyV config says PolyVForConditionalGeneration)");
        }

        @Override
        public String toString() {
            return name();
        }
    };

    /** Every family polyv knows, in lookup order. */
    List<ModelFamily> REGISTERED = List.of(POLYV, QWEN2_5_VL);

    /**
     * The family of a config: the first {@code architectures} entry a registered family lists; without
     * {@code architectures}, {@code model_type} (PolyV when the config declares MoE, synergy or 3D PE); a config
     * built in code (no JSON) is PolyV.
     *
     * @throws ConfigException naming {@code architectures} (or {@code model_type}) and the families known
     */
    static ModelFamily of(PolyVConfig config) {
        JsonNode raw = config.raw();
        if (raw == null) return POLYV;
        JsonNode arch = raw.get("architectures");
        if (arch != null && arch.isArray() && !arch.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (JsonNode a : arch) names.add(a.asText());
            for (String a : names) for (ModelFamily f : REGISTERED) if (f.architectures().contains(a)) return f;
            throw new ConfigException("architectures: " + names + " is not a model polyv runs (known: " + known() + ")");
        }
        JsonNode type = raw.get("model_type");
        if (type == null || !type.isTextual()) return POLYV;
        boolean extended = config.moe() != null || config.synergy() != null || config.position3d() != null;
        if (type.asText().equals("qwen2_5_vl")) return extended ? POLYV : QWEN2_5_VL;
        for (ModelFamily f : REGISTERED) if (f.modelTypes().contains(type.asText())) return f;
        throw new ConfigException("model_type: \"" + type.asText() + "\" is not a model polyv runs (known architectures: " + known() + ")");
    }

    private static String known() {
        List<String> all = new ArrayList<>();
        for (ModelFamily f : REGISTERED) all.addAll(f.architectures());
        return String.join(", ", all);
    }
}

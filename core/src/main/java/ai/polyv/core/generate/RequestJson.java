package ai.polyv.core.generate;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.sampling.SamplingOptions;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * One request as a JSON object, the line format of {@code polyv generate --batch-file} and of the rows of
 * {@code polyv spark generate}: {@code {"prompt": "..."}} (chat template) or {@code {"prompt_ids": [..]}}, and
 * optionally {@code system}, {@code history} ({@code [{"user": "..", "assistant": ".."}, ..]}, chat prompts only),
 * {@code images} / {@code videos} / {@code scenes} (arrays of paths, relative ones resolved against a base folder),
 * {@code image_bytes} (array of base64 strings, standard alphabet: PNG/JPEG file contents, decoded when the request
 * runs; in the prompt after the {@code images}),
 * {@code synergy_tokens}, {@code max_new_tokens}, {@code stop} (strings), {@code temperature}, {@code top_p},
 * {@code top_k}, {@code seed}; a field left out takes the caller's default.
 */
public final class RequestJson {
    private RequestJson() {}

    /** The fields a request object may have. */
    public static final Set<String> FIELDS = Set.of("prompt", "prompt_ids", "system", "history", "images", "image_bytes", "videos", "scenes", "synergy_tokens",
            "max_new_tokens", "stop", "temperature", "top_p", "top_k", "seed");

    /**
     * The request of one JSON object. {@code defaults} makes a builder for a prompt (text or ids) with the caller's
     * defaults applied; the object's own fields then override them.
     *
     * @throws IllegalArgumentException naming the field that is wrong (an image path that does not exist included)
     */
    public static GenerationRequest parse(JsonNode o, Path base, Function<GenerationRequest.Prompt, GenerationRequest.Builder> defaults,
                                             SamplingOptions d, double fps, int sceneViews) {
        if (!o.isObject()) throw new IllegalArgumentException("expected a JSON object, got " + o.getNodeType().name().toLowerCase(Locale.ROOT));
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw new IllegalArgumentException("unknown field \"" + f + "\" (expected one of " + new java.util.TreeSet<>(FIELDS) + ")");
        }
        boolean text = o.has("prompt"), ids = o.has("prompt_ids");
        if (text == ids) throw new IllegalArgumentException("give exactly one of \"prompt\" (text) and \"prompt_ids\" (array of ids)");
        if (!text && (o.has("system") || o.has("history"))) throw new IllegalArgumentException("\"system\" and \"history\" need a chat \"prompt\", not \"prompt_ids\"");
        List<Visual> visuals = new ArrayList<>();
        for (Path p : paths(o, "images", base)) visuals.add(new Visual.ImageFile(p));
        imageBytes(o, visuals);
        for (Path p : paths(o, "videos", base)) visuals.add(new Visual.VideoDirectory(p, fps, fps));
        for (Path p : paths(o, "scenes", base)) visuals.add(new Visual.SceneDirectory(p, sceneViews));
        // the visuals open the conversation's first user message
        GenerationRequest.Prompt prompt = text
                ? new GenerationRequest.Chat(string(o, "prompt"), o.has("system") ? string(o, "system") : null,
                        o.has("history") ? history(o.get("history")) : List.of()).visualsInFirstTurn(visuals.size())
                : new GenerationRequest.Ids(intArray(o, "prompt_ids"));
        GenerationRequest.Builder b = defaults.apply(prompt);
        visuals.forEach(b::visual);
        if (o.has("synergy_tokens")) b.synergyTokens(integer(o, "synergy_tokens"));
        if (o.has("max_new_tokens")) b.maxNewTokens(integer(o, "max_new_tokens"));
        if (o.has("stop")) {
            JsonNode st = o.get("stop");
            if (!st.isArray()) throw new IllegalArgumentException("\"stop\" must be an array of strings");
            for (int i = 0; i < st.size(); i++) {
                if (!st.get(i).isTextual() || st.get(i).asText().isEmpty()) throw new IllegalArgumentException("\"stop\"[" + i + "] must be a non-empty string");
                b.stopString(st.get(i).asText());
            }
        }
        if (o.has("temperature") || o.has("top_p") || o.has("top_k") || o.has("seed")) {
            b.sampling(new SamplingOptions(o.has("temperature") ? number(o, "temperature") : d.temperature(),
                    o.has("top_k") ? integer(o, "top_k") : d.topK(), o.has("top_p") ? number(o, "top_p") : d.topP(),
                    o.has("seed") ? o.get("seed").asLong() : d.seed()));
        }
        return b.build();
    }

    /** Earlier exchanges: {@code [{"user": "..", "assistant": ".."}, ..]}, oldest first. */
    public static List<GenerationRequest.Exchange> history(JsonNode a) {
        if (!a.isArray()) throw new IllegalArgumentException("\"history\" must be an array of {\"user\": .., \"assistant\": ..} objects");
        List<GenerationRequest.Exchange> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            JsonNode e = a.get(i);
            String where = "\"history\"[" + i + "]";
            if (!e.isObject() || e.size() != 2 || !e.path("user").isTextual() || !e.path("assistant").isTextual()) {
                throw new IllegalArgumentException(where + " must be {\"user\": \"..\", \"assistant\": \"..\"}");
            }
            out.add(new GenerationRequest.Exchange(e.get("user").asText(), e.get("assistant").asText()));
        }
        return out;
    }

    private static String string(JsonNode o, String f) {
        if (!o.get(f).isTextual()) throw new IllegalArgumentException("\"" + f + "\" must be a string");
        return o.get(f).asText();
    }

    private static int integer(JsonNode o, String f) {
        if (!o.get(f).canConvertToInt() || !o.get(f).isIntegralNumber()) throw new IllegalArgumentException("\"" + f + "\" must be an integer");
        return o.get(f).asInt();
    }

    private static double number(JsonNode o, String f) {
        if (!o.get(f).isNumber()) throw new IllegalArgumentException("\"" + f + "\" must be a number");
        return o.get(f).asDouble();
    }

    private static int[] intArray(JsonNode o, String f) {
        JsonNode a = o.get(f);
        if (!a.isArray()) throw new IllegalArgumentException("\"" + f + "\" must be an array of integers");
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToInt()) throw new IllegalArgumentException("\"" + f + "\"[" + i + "] is not an integer");
            v[i] = a.get(i).asInt();
        }
        return v;
    }

    /** {@code image_bytes}: base64 strings, each a PNG/JPEG file's contents (decoded later, with the images). */
    private static void imageBytes(JsonNode o, List<Visual> out) {
        if (!o.has("image_bytes")) return;
        JsonNode a = o.get("image_bytes");
        if (!a.isArray()) throw new IllegalArgumentException("\"image_bytes\" must be an array of base64 strings (PNG/JPEG file contents)");
        for (int i = 0; i < a.size(); i++) {
            String where = "\"image_bytes\"[" + i + "]";
            if (!a.get(i).isTextual()) throw new IllegalArgumentException(where + " must be a base64 string");
            byte[] data;
            try {
                data = Base64.getDecoder().decode(a.get(i).asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + " is not base64 (" + e.getMessage() + ")");
            }
            out.add(new Visual.ImageBytes(data, "image " + where));
        }
    }

    private static List<Path> paths(JsonNode o, String f, Path base) {
        if (!o.has(f)) return List.of();
        JsonNode a = o.get(f);
        if (!a.isArray()) throw new IllegalArgumentException("\"" + f + "\" must be an array of paths");
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).isTextual()) throw new IllegalArgumentException("\"" + f + "\"[" + i + "] must be a string");
            Path p = base.resolve(a.get(i).asText());
            if (!Files.exists(p)) throw new IllegalArgumentException("\"" + f + "\"[" + i + "]: " + p + " " + PathChecks.notARegularFile(p));
            out.add(p);
        }
        return out;
    }
}

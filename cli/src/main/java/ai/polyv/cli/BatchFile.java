package ai.polyv.cli;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.sampling.SamplingOptions;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The JSONL files of {@code polyv generate --batch-file IN --out OUT}.
 *
 * <p>Each non-blank line of IN is one request: {@code {"prompt": "..."}} (chat template) or {@code {"prompt_ids":
 * [..]}}, and optionally {@code system}, {@code history} (earlier exchanges, {@code [{"user": "..", "assistant": ".."}, ..]},
 * chat prompts only), {@code images} / {@code videos} / {@code scenes} (arrays of paths,
 * relative ones resolved against IN's folder), {@code synergy_tokens}, {@code max_new_tokens}, {@code stop} (strings),
 * {@code temperature},
 * {@code top_p}, {@code top_k}, {@code seed}; a field left out takes the command-line value. OUT gets one line per
 * request, in IN's order: {@code line}, {@code text}, {@code ids}, {@code prompt_tokens}, {@code stop},
 * {@code prefill_ms}, {@code decode_ms}; it is written atomically once every request is done.
 */
final class BatchFile {
    private BatchFile() {}

    static final Set<String> FIELDS = Set.of("prompt", "prompt_ids", "system", "history", "images", "videos", "scenes", "synergy_tokens",
            "max_new_tokens", "stop", "temperature", "top_p", "top_k", "seed");

    /** A request of IN and the line it came from (1-based). */
    record Entry(int line, GenerationRequest request) {}

    /**
     * Parses IN. {@code defaults} makes a builder for a prompt (text or ids) with every command-line option applied;
     * a line's own fields then override them.
     */
    static List<Entry> read(Path in, Function<GenerationRequest.Prompt, GenerationRequest.Builder> defaults, SamplingOptions sampling,
                            double fps, int sceneViews) {
        PathChecks.regularFile("batch file", in);
        List<String> lines;
        try {
            lines = Files.readAllLines(in, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("batch file " + in + ": cannot read it as UTF-8 (" + e.getMessage() + ")", e);
        }
        Path base = in.toAbsolutePath().getParent();
        ObjectMapper json = new ObjectMapper();
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            String where = in + " line " + (i + 1);
            JsonNode o;
            try {
                o = json.readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where + ": not JSON (" + e.getOriginalMessage() + ")");
            }
            try {
                out.add(new Entry(i + 1, request(o, base, defaults, sampling, fps, sceneViews)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("batch file " + in + " holds no request");
        return out;
    }

    private static GenerationRequest request(JsonNode o, Path base, Function<GenerationRequest.Prompt, GenerationRequest.Builder> defaults,
                                             SamplingOptions d, double fps, int sceneViews) {
        if (!o.isObject()) throw new IllegalArgumentException("expected a JSON object, got " + o.getNodeType().name().toLowerCase(Locale.ROOT));
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw new IllegalArgumentException("unknown field \"" + f + "\" (expected one of " + new java.util.TreeSet<>(FIELDS) + ")");
        }
        boolean text = o.has("prompt"), ids = o.has("prompt_ids");
        if (text == ids) throw new IllegalArgumentException("give exactly one of \"prompt\" (text) and \"prompt_ids\" (array of ids)");
        if (!text && (o.has("system") || o.has("history"))) throw new IllegalArgumentException("\"system\" and \"history\" need a chat \"prompt\", not \"prompt_ids\"");
        GenerationRequest.Prompt prompt = text
                ? new GenerationRequest.Chat(string(o, "prompt"), o.has("system") ? string(o, "system") : null,
                        o.has("history") ? history(o.get("history")) : List.of())
                : new GenerationRequest.Ids(intArray(o, "prompt_ids"));
        GenerationRequest.Builder b = defaults.apply(prompt);
        for (Path p : paths(o, "images", base)) b.visual(new Visual.ImageFile(p));
        for (Path p : paths(o, "videos", base)) b.visual(new Visual.VideoDirectory(p, fps, fps));
        for (Path p : paths(o, "scenes", base)) b.visual(new Visual.SceneDirectory(p, sceneViews));
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
    static List<GenerationRequest.Exchange> history(JsonNode a) {
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

    /** A {@code --history FILE}: one JSON array of exchanges. */
    static List<GenerationRequest.Exchange> historyFile(Path file) {
        PathChecks.regularFile("history file", file);
        try {
            return history(new ObjectMapper().readTree(file.toFile()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("history file " + file + ": not JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("history file " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("history file " + file + ": " + e.getMessage(), e);
        }
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

    /** Writes OUT atomically: one line per result, in request order. */
    static void write(Path out, List<Entry> entries, List<GenerationResult> results) throws IOException {
        ObjectMapper json = new ObjectMapper();
        AtomicFiles.write(out, ch -> {
            OutputStream os = Channels.newOutputStream(ch);
            try (JsonGenerator g = json.getFactory().createGenerator(os)) {
                g.setRootValueSeparator(null);
                g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);   // AtomicFiles still forces and closes the channel
                for (int i = 0; i < entries.size(); i++) {
                    GenerationResult r = results.get(i);
                    g.writeStartObject();
                    g.writeNumberField("line", entries.get(i).line());
                    g.writeStringField("text", r.text());
                    g.writeFieldName("ids");
                    int[] ids = r.ids();
                    g.writeArray(ids, 0, ids.length);
                    g.writeNumberField("prompt_tokens", r.timings().promptTokens());
                    g.writeStringField("stop", r.stopReason().name().toLowerCase(Locale.ROOT));
                    g.writeNumberField("prefill_ms", Math.round(r.timings().prefillMillis() * 10) / 10.0);
                    g.writeNumberField("decode_ms", Math.round(r.timings().decodeMillis() * 10) / 10.0);
                    g.writeEndObject();
                    g.writeRaw('\n');
                }
            }
        });
    }
}

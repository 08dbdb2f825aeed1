package ai.polyv.cli;

import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.RequestJson;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.sampling.SamplingOptions;
import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
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
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The JSONL files of {@code polyv generate --batch-file IN --out OUT}.
 *
 * <p>Each non-blank line of IN is one request: {@code {"prompt": "..."}} (chat template) or {@code {"prompt_ids":
 * [..]}}, and optionally {@code system}, {@code history} (earlier exchanges, {@code [{"user": "..", "assistant": ".."}, ..]},
 * chat prompts only), {@code images} / {@code videos} / {@code scenes} (arrays of paths,
 * relative ones resolved against IN's folder), {@code image_bytes} (base64 strings of PNG/JPEG file contents),
 * {@code synergy_tokens}, {@code max_new_tokens}, {@code stop} (strings),
 * {@code temperature},
 * {@code top_p}, {@code top_k}, {@code seed}; a field left out takes the command-line value. OUT gets one line per
 * request, in IN's order: {@code line}, {@code text}, {@code ids}, {@code prompt_tokens}, {@code stop},
 * {@code prefill_ms}, {@code decode_ms}; it is written atomically once every request is done.
 */
final class BatchFile {
    private BatchFile() {}

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
                GenerationRequest r = RequestJson.parse(o, base, defaults, sampling, fps, sceneViews);
                for (Visual v : r.visuals()) {
                    if (v instanceof Visual.ImageBytes b) ImageFiles.requireImageFormat(b.data(), b.what());   // refused before anything runs
                }
                out.add(new Entry(i + 1, r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("batch file " + in + " holds no request");
        return out;
    }

    /** A {@code --history FILE}: one JSON array of exchanges. */
    static List<GenerationRequest.Exchange> historyFile(Path file) {
        PathChecks.regularFile("history file", file);
        try {
            return RequestJson.history(new ObjectMapper().readTree(file.toFile()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("history file " + file + ": not JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("history file " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("history file " + file + ": " + e.getMessage(), e);
        }
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

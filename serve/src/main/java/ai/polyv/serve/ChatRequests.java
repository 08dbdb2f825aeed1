package ai.polyv.serve;

import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.sampling.SamplingOptions;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * The body of {@code POST /v1/chat/completions} (the OpenAI chat format, the subset PolyV can honour) as a
 * {@link GenerationRequest}.
 *
 * <ul>
 *   <li>{@code messages}: an optional first {@code system} message, then alternating {@code user} / {@code assistant}
 *       messages ending with a {@code user} one. {@code content} is a string, or an array of parts
 *       {@code {"type": "text", "text": ..}} and {@code {"type": "image_url", "image_url": {"url": "data:image/png;base64,.."}}}
 *       (PNG or JPEG, inline data only: the server reads no file and no URL). Images may only be in the first user
 *       message (where PolyV places a conversation's visuals).</li>
 *   <li>{@code max_tokens} (or {@code max_completion_tokens}), {@code temperature} (0 = greedy), {@code top_p},
 *       {@code top_k}, {@code seed}, {@code stream}; {@code model}, {@code user} and {@code stream_options} are accepted
 *       and ignored (one model per server).</li>
 *   <li>{@code stop}: a string or up to 4 (the text ends before the first one; {@code finish_reason} "stop").</li>
 *   <li>{@code presence_penalty} / {@code frequency_penalty} 0, {@code logprobs} false,
 *       {@code response_format} text, {@code n} 1: what clients send by default is accepted; other values are refused
 *       with the field's name.</li>
 * </ul>
 * Any other field is refused with its name, as is a field of the wrong type.
 */
public final class ChatRequests {
    private ChatRequests() {}

    static final Set<String> FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k",
            "seed", "stream", "n", "user", "presence_penalty", "frequency_penalty", "stop", "logprobs", "stream_options", "response_format");

    /** A parsed request: what to generate and whether to stream it. */
    public record Parsed(GenerationRequest request, boolean stream) {}

    public static Parsed parse(JsonNode body, int defaultMaxTokens) {
        if (body == null || !body.isObject()) throw new IllegalArgumentException("the request body must be a JSON object");
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw new IllegalArgumentException("unsupported field \"" + f + "\" (supported: " + new TreeSet<>(FIELDS) + ")");
        }
        if (body.has("n") && body.get("n").asInt(-1) != 1) throw new IllegalArgumentException("\"n\" must be 1 (one choice per request)");
        // fields clients send with their neutral values are accepted; asking for what PolyV does not do is refused
        for (String f : new String[] {"presence_penalty", "frequency_penalty"}) {
            if (body.has(f) && !body.get(f).isNull() && body.get(f).asDouble(1) != 0) {
                throw new IllegalArgumentException("\"" + f + "\" is not supported (only 0)");
            }
        }
        if (body.has("logprobs") && body.get("logprobs").asBoolean(false)) throw new IllegalArgumentException("\"logprobs\" is not supported");
        JsonNode format = body.get("response_format");
        if (format != null && !format.isNull() && !"text".equals(format.path("type").asText(""))) {
            throw new IllegalArgumentException("\"response_format\" must be {\"type\": \"text\"} (no JSON mode)");
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) throw new IllegalArgumentException("\"messages\" must be a non-empty array");
        int at = 0;
        String system = null;
        if (role(messages.get(0), 0).equals("system")) {
            system = textOnly(messages.get(0), 0);
            at = 1;
        }
        List<String[]> turns = new ArrayList<>();   // {user, assistant} exchanges
        List<Visual> visuals = new ArrayList<>();
        String last = null;
        for (int i = at; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            boolean userTurn = (i - at) % 2 == 0;
            String role = role(m, i);
            if (!role.equals(userTurn ? "user" : "assistant")) {
                throw new IllegalArgumentException("messages[" + i + "]: expected a " + (userTurn ? "user" : "assistant") + " message, got " + role
                        + " (after an optional system message, user and assistant messages alternate, starting with user)");
            }
            String text;
            if (userTurn) {
                List<Visual> images = new ArrayList<>();
                text = content(m, i, images);
                if (!images.isEmpty() && i != at) {
                    throw new IllegalArgumentException("messages[" + i + "]: images are only accepted in the first user message");
                }
                visuals.addAll(images);
                last = text;
            } else {
                text = textOnly(m, i);
                turns.add(new String[] {last, text});
                last = null;
            }
        }
        if (last == null) throw new IllegalArgumentException("the last message must be a user message");
        GenerationRequest.Builder b = GenerationRequest.builder(last);
        if (system != null) b.system(system);
        for (String[] t : turns) b.exchange(t[0], t[1]);
        visuals.forEach(b::visual);
        int maxTokens = body.has("max_completion_tokens") ? positiveInt(body, "max_completion_tokens")
                : body.has("max_tokens") ? positiveInt(body, "max_tokens") : defaultMaxTokens;
        double temperature = body.has("temperature") ? number(body, "temperature") : 0;
        double topP = body.has("top_p") ? number(body, "top_p") : 1;
        int topK = body.has("top_k") ? nonNegativeInt(body, "top_k") : 0;
        long seed = body.has("seed") ? body.get("seed").asLong() : 0;
        b.maxNewTokens(maxTokens).sampling(new SamplingOptions(temperature, topK, topP, seed));
        for (String stop : stops(body.get("stop"))) b.stopString(stop);
        boolean stream = body.has("stream") && bool(body, "stream");
        return new Parsed(b.build(), stream);
    }

    /** {@code "stop"}: null, one string, or an array of up to 4 non-empty strings. */
    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) out.add(stop.asText());
        else if (stop.isArray()) for (JsonNode s : stop) out.add(s.isTextual() ? s.asText() : null);
        else throw new IllegalArgumentException("\"stop\" must be a string or an array of strings");
        if (out.size() > 4) throw new IllegalArgumentException("\"stop\" takes at most 4 strings, got " + out.size());
        for (String s : out) if (s == null || s.isEmpty()) throw new IllegalArgumentException("\"stop\" strings must be non-empty strings");
        return out;
    }

    private static String role(JsonNode m, int i) {
        if (!m.isObject() || !m.path("role").isTextual()) throw new IllegalArgumentException("messages[" + i + "] must be an object with a \"role\"");
        String r = m.get("role").asText();
        if (!Set.of("system", "user", "assistant").contains(r)) {
            throw new IllegalArgumentException("messages[" + i + "]: unsupported role \"" + r + "\" (system, user or assistant)");
        }
        if (r.equals("system") && i != 0) throw new IllegalArgumentException("messages[" + i + "]: a system message must come first");
        return r;
    }

    private static String textOnly(JsonNode m, int i) {
        List<Visual> none = new ArrayList<>();
        String t = content(m, i, none);
        if (!none.isEmpty()) throw new IllegalArgumentException("messages[" + i + "]: only user messages may hold images");
        return t;
    }

    /** The text of a message's content (parts joined), images appended to {@code images}. */
    private static String content(JsonNode m, int i, List<Visual> images) {
        JsonNode c = m.get("content");
        if (c == null) throw new IllegalArgumentException("messages[" + i + "] has no \"content\"");
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw new IllegalArgumentException("messages[" + i + "].content must be a string or an array of parts");
        StringBuilder text = new StringBuilder();
        for (int p = 0; p < c.size(); p++) {
            JsonNode part = c.get(p);
            String where = "messages[" + i + "].content[" + p + "]";
            String type = part.path("type").asText("");
            switch (type) {
                case "text" -> {
                    if (!part.path("text").isTextual()) throw new IllegalArgumentException(where + ".text must be a string");
                    text.append(part.get("text").asText());
                }
                case "image_url" -> images.add(new Visual.Image(dataUrlImage(part.path("image_url").path("url").asText(""), where)));
                default -> throw new IllegalArgumentException(where + ": unsupported part type \"" + type + "\" (text or image_url)");
            }
        }
        return text.toString();
    }

    private static ai.polyv.core.preprocess.RgbFrames dataUrlImage(String url, String where) {
        int comma = url.indexOf(',');
        if (!url.startsWith("data:image/") || comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
            throw new IllegalArgumentException(where + ": image_url.url must be a data URL (data:image/png;base64,... or data:image/jpeg;base64,...)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(url.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": the image data is not valid base64 (" + e.getMessage() + ")");
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": the image cannot be decoded (" + e.getMessage() + ")");
        }
        if (img == null) throw new IllegalArgumentException(where + ": the image data is not a PNG or JPEG image");
        return ImageFiles.fromImage(img);
    }

    private static int positiveInt(JsonNode o, String f) {
        int v = nonNegativeInt(o, f);
        if (v < 1) throw new IllegalArgumentException("\"" + f + "\" must be >= 1, got " + v);
        return v;
    }

    private static int nonNegativeInt(JsonNode o, String f) {
        JsonNode v = o.get(f);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) throw new IllegalArgumentException("\"" + f + "\" must be a non-negative integer");
        return v.asInt();
    }

    private static double number(JsonNode o, String f) {
        if (!o.get(f).isNumber()) throw new IllegalArgumentException("\"" + f + "\" must be a number");
        return o.get(f).asDouble();
    }

    private static boolean bool(JsonNode o, String f) {
        if (!o.get(f).isBoolean()) throw new IllegalArgumentException("\"" + f + "\" must be true or false");
        return o.get(f).asBoolean();
    }
}

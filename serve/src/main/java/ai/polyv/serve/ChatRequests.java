package ai.polyv.serve;

import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.sampling.SamplingOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * The bodies of {@code POST /v1/chat/completions} (the OpenAI chat format, the subset PolyV can honour) and
 * {@code POST /v1/completions} (a prompt string, no chat template) as {@link GenerationRequest}s.
 *
 * <ul>
 *   <li>{@code null} for any field (or part of a message) means absent, as in the OpenAI API.</li>
 *   <li>{@code messages}: leading {@code system} or {@code developer} messages (joined, one line each), then
 *       {@code user} and {@code assistant} turns ending with a {@code user} one; consecutive messages of one role are
 *       joined with a newline; an assistant's {@code content} may be null (empty). {@code content} is a string, or an
 *       array of parts {@code {"type": "text", "text": ..}} and
 *       {@code {"type": "image_url", "image_url": {"url": "data:image/png;base64,.."}}} (PNG or JPEG, inline data only:
 *       the server reads no file and no URL). Images may be in any user message; they open the user turn that sent them
 *       ({@code <|vision_start|>...<|vision_end|>} before its text, in order), as the Qwen2.5-VL chat template puts them.
 *       {@code name} is accepted and ignored.</li>
 *   <li>{@code max_tokens} (or {@code max_completion_tokens}): at most the server's cap (a larger value is lowered to
 *       it; {@code finish_reason} "length" tells the client); absent: the cap.</li>
 *   <li>{@code temperature}, {@code top_p}, {@code top_k}: absent, the server's defaults (OpenAI's: temperature 1,
 *       unless the model's {@code generation_config.json} says otherwise). {@code seed}: absent, a fresh random seed per
 *       request (reported back), so unseeded sampling is random; given, the draws are reproducible.</li>
 *   <li>{@code stop}: a string or up to 4 (the text ends before the first one; {@code finish_reason} "stop").</li>
 *   <li>{@code stream}, {@code stream_options.include_usage}; {@code model}, {@code user}, {@code metadata},
 *       {@code store}, {@code service_tier}, {@code parallel_tool_calls} are accepted and ignored (one model per
 *       server, nothing stored).</li>
 *   <li>{@code presence_penalty} / {@code frequency_penalty} 0, {@code logprobs} false, {@code response_format} text,
 *       {@code n} 1, {@code tool_choice} "none", empty {@code tools} / {@code logit_bias}: what clients send by default is
 *       accepted; other values are refused with the field's name.</li>
 * </ul>
 * Any other field is refused with its name ({@link InvalidRequest#param}), as is a field of the wrong type.
 */
public final class ChatRequests {
    private ChatRequests() {}

    /** Fields both endpoints take. */
    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "seed", "stream", "n", "user",
            "presence_penalty", "frequency_penalty", "stop", "logprobs", "stream_options", "metadata", "store", "service_tier", "logit_bias");
    static final Set<String> FIELDS = union(COMMON, Set.of("messages", "max_completion_tokens", "response_format", "parallel_tool_calls",
            "tool_choice", "tools", "top_logprobs"));
    static final Set<String> COMPLETION_FIELDS = union(COMMON, Set.of("prompt", "echo", "suffix", "best_of"));

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    /** A field the client got wrong: a 400 whose body names it in {@code param}. */
    public static final class InvalidRequest extends IllegalArgumentException {
        private final String param;

        InvalidRequest(String param, String message) {
            super(message);
            this.param = param;
        }

        /** The offending field ({@code messages[2].content}, ...), or null when the whole body is at fault. */
        public String param() {
            return param;
        }
    }

    private static InvalidRequest bad(String param, String message) {
        return new InvalidRequest(param, message);
    }

    /**
     * What the server fills in for a request that leaves a field out.
     *
     * @param maxTokens   the budget of a request without {@code max_tokens}, and the most a request may ask for
     * @param temperature default temperature (OpenAI: 1; 0 = greedy)
     * @param topP        default top-p
     * @param topK        default top-k (0 = no limit)
     */
    public record Defaults(int maxTokens, double temperature, double topP, int topK) {
        /** OpenAI's defaults with this token cap. */
        public static Defaults openAi(int maxTokens) {
            return new Defaults(maxTokens, 1, 1, 0);
        }

        public Defaults {
            if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
            new SamplingOptions(temperature, topK, topP, 0);   // checks the ranges
        }
    }

    /**
     * A parsed request: what to generate, whether to stream it, the seed its sampling used.
     *
     * @param includeUsage {@code stream_options.include_usage}: a last chunk with the token counts
     */
    public record Parsed(GenerationRequest request, boolean stream, boolean includeUsage, long seed) {}

    /** The chat body; {@code seeds} gives the seed of a request without one. */
    public static Parsed parse(JsonNode raw, Defaults defaults, java.util.function.LongSupplier seeds) {
        ObjectNode body = object(raw);
        fields(body, FIELDS);
        neutral(body);
        if (body.has("tools") && !(body.get("tools").isArray() && body.get("tools").isEmpty())) throw bad("tools", "\"tools\" are not supported");
        if (body.has("tool_choice") && !"none".equals(body.get("tool_choice").asText())) {
            throw bad("tool_choice", "\"tool_choice\" must be \"none\" (no tools)");
        }
        JsonNode format = body.get("response_format");
        if (format != null && !"text".equals(format.path("type").asText(""))) {
            throw bad("response_format", "\"response_format\" must be {\"type\": \"text\"} (no JSON mode)");
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) throw bad("messages", "\"messages\" must be a non-empty array");
        // leading system/developer messages, then runs of one role each (user, assistant, user, ...)
        List<String> system = new ArrayList<>();
        List<String> roles = new ArrayList<>();
        List<StringBuilder> texts = new ArrayList<>();
        List<List<Visual>> visuals = new ArrayList<>();      // per turn: the images of a user turn, in order
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = role(m, i);
            if (role.equals("system")) {
                if (!roles.isEmpty()) throw bad("messages[" + i + "].role", "messages[" + i + "]: a system or developer message must come before the others");
                system.add(textOnly(m, i));
                continue;
            }
            String text;
            List<Visual> images = new ArrayList<>();
            if (role.equals("user")) {
                text = content(m, i, images);
            } else {
                if (m.has("tool_calls")) throw bad("messages[" + i + "].tool_calls", "messages[" + i + "]: tool calls are not supported");
                text = m.has("content") ? textOnly(m, i) : "";
            }
            if (!roles.isEmpty() && roles.getLast().equals(role)) {
                texts.getLast().append('\n').append(text);
                visuals.getLast().addAll(images);
            } else {
                if (roles.isEmpty() && !role.equals("user")) {
                    throw bad("messages[" + i + "].role", "messages[" + i + "]: expected a user message, got " + role
                            + " (after optional system messages, the conversation starts with a user message)");
                }
                roles.add(role);
                texts.add(new StringBuilder(text));
                visuals.add(images);
            }
        }
        if (roles.isEmpty() || !roles.getLast().equals("user")) throw bad("messages", "the last message must be a user message");
        GenerationRequest.Builder b = GenerationRequest.builder(texts.getLast().toString());
        if (!system.isEmpty()) b.system(String.join("\n", system));
        for (int t = 0; t + 1 < roles.size(); t += 2) b.exchange(texts.get(t).toString(), visuals.get(t), texts.get(t + 1).toString());
        visuals.getLast().forEach(b::visual);
        int maxTokens = body.has("max_completion_tokens") ? positiveInt(body, "max_completion_tokens")
                : body.has("max_tokens") ? positiveInt(body, "max_tokens") : defaults.maxTokens();
        return common(body, b, maxTokens, defaults, seeds);
    }

    /**
     * The completions body: {@code prompt} (a string, or an array of one string) is encoded as it is, without the chat
     * template, by {@code encode}.
     */
    public static Parsed parseCompletion(JsonNode raw, Defaults defaults, java.util.function.LongSupplier seeds,
                                         java.util.function.Function<String, int[]> encode) {
        ObjectNode body = object(raw);
        fields(body, COMPLETION_FIELDS);
        neutral(body);
        if (body.has("echo") && bool(body, "echo")) throw bad("echo", "\"echo\" is not supported");
        if (body.has("suffix")) throw bad("suffix", "\"suffix\" is not supported");
        if (body.has("best_of") && body.get("best_of").asInt(-1) != 1) throw bad("best_of", "\"best_of\" must be 1");
        JsonNode prompt = body.get("prompt");
        if (prompt != null && prompt.isArray() && prompt.size() == 1) prompt = prompt.get(0);
        if (prompt == null || !prompt.isTextual() || prompt.asText().isEmpty()) {
            throw bad("prompt", "\"prompt\" must be a non-empty string (or an array of one)");
        }
        int[] ids = encode.apply(prompt.asText());
        if (ids.length == 0) throw bad("prompt", "\"prompt\" encodes to no tokens");
        GenerationRequest.Builder b = GenerationRequest.builderOfIds(ids);
        int maxTokens = body.has("max_tokens") ? positiveInt(body, "max_tokens") : defaults.maxTokens();
        return common(body, b, maxTokens, defaults, seeds);
    }

    /** The body as an object with its null fields removed (null = absent). */
    private static ObjectNode object(JsonNode raw) {
        if (raw == null || !raw.isObject()) throw bad(null, "the request body must be a JSON object");
        ObjectNode body = ((ObjectNode) raw).deepCopy();
        body.properties().removeIf(e -> e.getValue().isNull());
        return body;
    }

    private static void fields(ObjectNode body, Set<String> allowed) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) throw bad(f, "unsupported field \"" + f + "\" (supported: " + new TreeSet<>(allowed) + ")");
        }
    }

    /** Fields clients send with their neutral values are accepted; asking for what PolyV does not do is refused. */
    private static void neutral(ObjectNode body) {
        if (body.has("n") && body.get("n").asInt(-1) != 1) throw bad("n", "\"n\" must be 1 (one choice per request)");
        for (String f : new String[] {"presence_penalty", "frequency_penalty"}) {
            if (body.has(f) && body.get(f).asDouble(1) != 0) throw bad(f, "\"" + f + "\" is not supported (only 0)");
        }
        if (body.has("logprobs") && !(body.get("logprobs").isBoolean() && !body.get("logprobs").asBoolean())) {
            throw bad("logprobs", "\"logprobs\" is not supported");
        }
        if (body.has("top_logprobs") && body.get("top_logprobs").asInt(-1) != 0) throw bad("top_logprobs", "\"top_logprobs\" is not supported");
        if (body.has("logit_bias") && !(body.get("logit_bias").isObject() && body.get("logit_bias").isEmpty())) {
            throw bad("logit_bias", "\"logit_bias\" is not supported");
        }
        if (body.has("stream_options") && !body.get("stream_options").isObject()) throw bad("stream_options", "\"stream_options\" must be an object");
    }

    private static Parsed common(ObjectNode body, GenerationRequest.Builder b, int maxTokens, Defaults defaults, java.util.function.LongSupplier seeds) {
        double temperature = body.has("temperature") ? number(body, "temperature") : defaults.temperature();
        if (temperature < 0 || temperature > 2) throw bad("temperature", "\"temperature\" must be in [0, 2], got " + temperature);
        double topP = body.has("top_p") ? number(body, "top_p") : defaults.topP();
        if (!(topP > 0 && topP <= 1)) throw bad("top_p", "\"top_p\" must be in (0, 1], got " + topP);
        int topK = body.has("top_k") ? nonNegativeInt(body, "top_k") : defaults.topK();
        long seed;
        if (body.has("seed")) {
            if (!body.get("seed").isIntegralNumber() || !body.get("seed").canConvertToLong()) throw bad("seed", "\"seed\" must be an integer");
            seed = body.get("seed").asLong();
        } else {
            seed = seeds.getAsLong();
        }
        b.maxNewTokens(Math.min(maxTokens, defaults.maxTokens())).sampling(new SamplingOptions(temperature, topK, topP, seed));
        for (String stop : stops(body.get("stop"))) b.stopString(stop);
        boolean stream = body.has("stream") && bool(body, "stream");
        JsonNode options = body.path("stream_options").path("include_usage");
        if (!options.isMissingNode() && !options.isNull() && !options.isBoolean()) {
            throw bad("stream_options.include_usage", "\"stream_options.include_usage\" must be true or false");
        }
        return new Parsed(b.build(), stream, options.asBoolean(false), seed);
    }

    /** {@code "stop"}: null, one string, or an array of up to 4 non-empty strings. */
    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) out.add(stop.asText());
        else if (stop.isArray()) for (JsonNode s : stop) out.add(s.isTextual() ? s.asText() : null);
        else throw bad("stop", "\"stop\" must be a string or an array of strings");
        if (out.size() > 4) throw bad("stop", "\"stop\" takes at most 4 strings, got " + out.size());
        for (String s : out) if (s == null || s.isEmpty()) throw bad("stop", "\"stop\" strings must be non-empty strings");
        return out;
    }

    /** The message's role; {@code developer} (OpenAI's newer name) is {@code system}. */
    private static String role(JsonNode m, int i) {
        if (!m.isObject() || !m.path("role").isTextual()) throw bad("messages[" + i + "]", "messages[" + i + "] must be an object with a \"role\"");
        String r = m.get("role").asText();
        if (r.equals("developer")) return "system";
        if (!Set.of("system", "user", "assistant").contains(r)) {
            throw bad("messages[" + i + "].role", "messages[" + i + "]: unsupported role \"" + r + "\" (system, developer, user or assistant)");
        }
        return r;
    }

    private static String textOnly(JsonNode m, int i) {
        List<Visual> none = new ArrayList<>();
        String t = content(m, i, none);
        if (!none.isEmpty()) throw bad("messages[" + i + "].content", "messages[" + i + "]: only user messages may hold images");
        return t;
    }

    /** The text of a message's content (parts joined), images appended to {@code images}. */
    private static String content(JsonNode m, int i, List<Visual> images) {
        JsonNode c = m.get("content");
        if (c == null || c.isNull()) {
            if (m.path("role").asText().equals("assistant")) return "";
            throw bad("messages[" + i + "].content", "messages[" + i + "] has no \"content\"");
        }
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) throw bad("messages[" + i + "].content", "messages[" + i + "].content must be a string or an array of parts");
        StringBuilder text = new StringBuilder();
        for (int p = 0; p < c.size(); p++) {
            JsonNode part = c.get(p);
            String where = "messages[" + i + "].content[" + p + "]";
            String type = part.path("type").asText("");
            switch (type) {
                case "text" -> {
                    if (!part.path("text").isTextual()) throw bad(where + ".text", where + ".text must be a string");
                    text.append(part.get("text").asText());
                }
                case "image_url" -> images.add(new Visual.Image(dataUrlImage(part.path("image_url").path("url").asText(""), where)));
                default -> throw bad(where + ".type", where + ": unsupported part type \"" + type + "\" (text or image_url)");
            }
        }
        return text.toString();
    }

    private static ai.polyv.core.preprocess.RgbFrames dataUrlImage(String url, String where) {
        int comma = url.indexOf(',');
        if (!url.startsWith("data:image/") || comma < 0 || !url.substring(0, comma).endsWith(";base64")) {
            throw bad(where, where + ": image_url.url must be a data URL (data:image/png;base64,... or data:image/jpeg;base64,...)");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(url.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw bad(where, where + ": the image data is not valid base64 (" + e.getMessage() + ")");
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw bad(where, where + ": the image cannot be decoded (" + e.getMessage() + ")");
        }
        if (img == null) throw bad(where, where + ": the image data is not a PNG or JPEG image");
        return ImageFiles.fromImage(img);
    }

    private static int positiveInt(JsonNode o, String f) {
        int v = nonNegativeInt(o, f);
        if (v < 1) throw bad(f, "\"" + f + "\" must be >= 1, got " + v);
        return v;
    }

    private static int nonNegativeInt(JsonNode o, String f) {
        JsonNode v = o.get(f);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) throw bad(f, "\"" + f + "\" must be a non-negative integer");
        return v.asInt();
    }

    private static double number(JsonNode o, String f) {
        if (!o.get(f).isNumber()) throw bad(f, "\"" + f + "\" must be a number");
        return o.get(f).asDouble();
    }

    private static boolean bool(JsonNode o, String f) {
        if (!o.get(f).isBoolean()) throw bad(f, "\"" + f + "\" must be true or false");
        return o.get(f).asBoolean();
    }
}

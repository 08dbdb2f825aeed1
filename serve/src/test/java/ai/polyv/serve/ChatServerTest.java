package ai.polyv.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.demo.DemoFixture;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Visual;
import ai.polyv.core.preprocess.RgbFrames;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The chat-completions server on the demo checkpoint: answers equal the API's, streamed or not; bad requests get 400 naming the field. */
class ChatServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static PolyV polyv;
    private static GenerationService service;
    private static ChatServer server;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        polyv = PolyV.load(DemoFixture.checkpoint(), new CpuBackend(2));
        service = new GenerationService(polyv, 4);
        // temperature 0 by default (as a generation_config.json may say), so that answers compare with the API's greedy ones
        server = new ChatServer(service, "demo", "127.0.0.1", 0, new ChatServer.Options().defaults(new ChatRequests.Defaults(16, 0, 1, 0)));
    }

    @AfterAll
    static void stop() {
        server.close();
        service.close();
        polyv.close();
    }

    static HttpResponse<String> post(String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The text the API gives for the same request (greedy; the server and the API run the same model). */
    static GenerationResult direct(GenerationRequest r) throws Exception {
        return service.submit(r, (id, text) -> { }).get();
    }

    @Test
    void completionEqualsTheApiResult() throws Exception {
        HttpResponse<String> r = post("{\"model\": \"demo\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                + "{\"role\": \"user\", \"content\": \"What is it?\"}, {\"role\": \"assistant\", \"content\": \"A square.\"},"
                + "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Why?\"}]}], \"max_tokens\": 6}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = JSON.readTree(r.body());
        GenerationResult want = direct(GenerationRequest.builder("Why?").system("Be brief.").exchange("What is it?", "A square.").maxNewTokens(6).build());
        assertEquals("chat.completion", o.get("object").asText());
        assertEquals(want.text(), o.at("/choices/0/message/content").asText());
        assertEquals("assistant", o.at("/choices/0/message/role").asText());
        assertEquals(want.stopReason() == ai.polyv.core.generate.Generator.StopReason.STOP_TOKEN ? "stop" : "length",
                o.at("/choices/0/finish_reason").asText());
        assertEquals(want.promptIds().length, o.at("/usage/prompt_tokens").asInt());
        assertEquals(want.ids().length, o.at("/usage/completion_tokens").asInt());
    }

    @Test
    void streamedDeltasConcatenateToTheTextAndAnImageCounts() throws Exception {
        RgbFrames img = DemoImage.create(56, 56);
        BufferedImage b = new BufferedImage(56, 56, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 56; y++) for (int x = 0; x < 56; x++) b.setRGB(x, y, (img.get(0, y, x, 0) << 16) | (img.get(0, y, x, 1) << 8) | img.get(0, y, x, 2));
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(b, "png", png);
        String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
        HttpResponse<String> r = post("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"" + url
                + "\"}}, {\"type\": \"text\", \"text\": \"Describe this image.\"}]}], \"max_tokens\": 8, \"stream\": true,"
                + " \"stream_options\": {\"include_usage\": true}}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        StringBuilder text = new StringBuilder();
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast());
        JsonNode last = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode c = JSON.readTree(e);
            assertEquals("chat.completion.chunk", c.get("object").asText());
            text.append(c.at("/choices/0/delta/content").asText(""));
            last = c;
        }
        GenerationResult want = direct(GenerationRequest.builder("Describe this image.").visual(new Visual.Image(img)).maxNewTokens(8).build());
        assertEquals(want.text(), text.toString());
        assertEquals(want.promptIds().length, last.at("/usage/prompt_tokens").asInt());   // the image placeholders are counted
    }

    /** A PNG data URL of a picture. */
    static String dataUrl(RgbFrames img) throws Exception {
        int h = img.height(), w = img.width();
        BufferedImage b = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) b.setRGB(x, y, (img.get(0, y, x, 0) << 16) | (img.get(0, y, x, 1) << 8) | img.get(0, y, x, 2));
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(b, "png", png);
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
    }

    /** Images in a later user turn: each opens the user message that sent it, and the answer is the API's for that conversation. */
    @Test
    void imagesInALaterUserTurnOpenThatTurn() throws Exception {
        RgbFrames a = DemoImage.create(56, 56), b = DemoImage.create(56, 84);
        HttpResponse<String> r = post("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"What is it?\"},"
                + " {\"type\": \"image_url\", \"image_url\": {\"url\": \"" + dataUrl(a) + "\"}}]},"
                + " {\"role\": \"assistant\", \"content\": \"A square.\"},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"" + dataUrl(b) + "\"}},"
                + " {\"type\": \"text\", \"text\": \"And this one?\"}]}], \"max_tokens\": 6}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = JSON.readTree(r.body());
        GenerationResult want = direct(GenerationRequest.builder("And this one?").exchange("What is it?", List.of(new Visual.Image(a)), "A square.")
                .visual(new Visual.Image(b)).maxNewTokens(6).build());
        assertEquals(want.text(), o.at("/choices/0/message/content").asText());
        assertEquals(want.promptIds().length, o.at("/usage/prompt_tokens").asInt());   // 4 + 6 placeholders counted
        assertEquals(List.of(4, 6), want.grids().stream().map(g -> g.mergedTokens(2)).toList());
        // consecutive user messages are one turn: their images join it, in order
        HttpResponse<String> joined = post("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi.\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"" + dataUrl(a) + "\"}}]},"
                + " {\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"" + dataUrl(b) + "\"}},"
                + " {\"type\": \"text\", \"text\": \"Compare.\"}]}], \"max_tokens\": 4}");
        assertEquals(200, joined.statusCode(), joined.body());
        GenerationResult wantJoined = direct(GenerationRequest.builder("\nCompare.").exchange("Hi.", "Hello.").visual(new Visual.Image(a))
                .visual(new Visual.Image(b)).maxNewTokens(4).build());
        assertEquals(wantJoined.text(), JSON.readTree(joined.body()).at("/choices/0/message/content").asText());
        assertEquals(wantJoined.promptIds().length, JSON.readTree(joined.body()).at("/usage/prompt_tokens").asInt());
    }

    @Test
    void defaultValuesClientsSendAreAccepted() throws Exception {
        HttpResponse<String> r = post("{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 2,"
                + " \"n\": 1, \"stop\": null, \"presence_penalty\": 0, \"frequency_penalty\": 0, \"logprobs\": false, \"user\": \"u1\","
                + " \"response_format\": {\"type\": \"text\"}, \"stream_options\": null}");
        assertEquals(200, r.statusCode(), r.body());
    }

    @Test
    void aStopStringEndsTheAnswerBeforeIt() throws Exception {
        String full = direct(GenerationRequest.builder("Why?").maxNewTokens(12).build()).text();   // the server's stop tokens too
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        HttpResponse<String> r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"Why?\"}], \"max_tokens\": 12, \"stop\": "
                + JSON.writeValueAsString(stop) + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = JSON.readTree(r.body());
        String got = o.at("/choices/0/message/content").asText();
        assertEquals(full.substring(0, full.indexOf(stop)), got, "stop '" + stop + "' in '" + full + "'");
        assertEquals("stop", o.at("/choices/0/finish_reason").asText());
    }

    @Test
    void concurrentClientsAreServedTogether() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> rs = new java.util.ArrayList<>();
        for (String q : new String[] {"One?", "Two?", "Three?"}) {
            rs.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"" + q + "\"}], \"max_tokens\": 4}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        String[] qs = {"One?", "Two?", "Three?"};
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = rs.get(i).get();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(direct(GenerationRequest.builder(qs[i]).maxNewTokens(4).build()).text(), JSON.readTree(r.body()).at("/choices/0/message/content").asText());
        }
    }

    @Test
    void badRequestsGetAnErrorNamingTheField() throws Exception {
        String[][] cases = {
                {"{\"messages\": [], \"max_tokens\": 2}", "\"messages\" must be a non-empty array"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logprobs\": true}", "\"logprobs\" is not supported"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{\"type\": \"function\"}]}", "\"tools\" are not supported"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"functions\": []}", "unsupported field \"functions\""},
                {"{\"messages\": [{\"role\": \"assistant\", \"content\": \"hi\"}]}", "messages[0]: expected a user message, got assistant"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}", "the last message must be a user message"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"http://x/cat.png\"}}]}]}",
                        "image_url.url must be a data URL"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", "\"max_tokens\" must be >= 1"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", "\"stream\" must be true or false"},
                {"not json", "the request body is not JSON"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [\"\"]}", "\"stop\" strings must be non-empty"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 3}", "\"stop\" must be a string or an array"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"frequency_penalty\": 0.5}", "\"frequency_penalty\" is not supported"},
                {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"response_format\": {\"type\": \"json_object\"}}",
                        "\"response_format\" must be"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0]);
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            JsonNode e = JSON.readTree(r.body()).get("error");
            assertTrue(e.get("message").asText().contains(c[1]), "expected '" + c[1] + "' in " + r.body());
            assertEquals("invalid_request_error", e.get("type").asText());
        }
        HttpResponse<String> notFound = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/nothing")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notFound.statusCode());
        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertEquals("method_not_allowed", JSON.readTree(get.body()).at("/error/type").asText());
        assertEquals("not_found", JSON.readTree(notFound.body()).at("/error/type").asText());
        HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("demo", JSON.readTree(models.body()).at("/data/0/id").asText());
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("ok", JSON.readTree(health.body()).get("status").asText());
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("# TYPE polyv_generated_tokens_total counter\npolyv_generated_tokens_total "), metrics.body());
        assertTrue(metrics.body().lines().anyMatch(l -> l.equals("polyv_requests_queued 0")), metrics.body());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static String text(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).at("/choices/0/message/content").asText();
    }

    @Test
    void whatRealClientsSendIsAccepted() throws Exception {
        // null = absent, developer = system, consecutive user messages joined, assistant content null, harmless fields
        String want = direct(GenerationRequest.builder("Why?\nAnd how?").system("Be brief.").exchange("What is it?", "").maxNewTokens(6).build()).text();
        HttpResponse<String> r = post("{\"model\": \"demo\", \"messages\": [{\"role\": \"developer\", \"content\": \"Be brief.\"},"
                + "{\"role\": \"user\", \"content\": \"What is it?\", \"name\": \"ann\"}, {\"role\": \"assistant\", \"content\": null},"
                + "{\"role\": \"user\", \"content\": \"Why?\"}, {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"And how?\"}]}],"
                + " \"max_tokens\": 6, \"temperature\": null, \"top_p\": null, \"seed\": null, \"stop\": null, \"tools\": null, \"metadata\": {\"a\": \"b\"},"
                + " \"store\": false, \"parallel_tool_calls\": true, \"tool_choice\": \"none\", \"logit_bias\": {}, \"service_tier\": \"auto\"}");
        assertEquals(want, text(r));
    }

    @Test
    void errorsCarryTypeParamAndCode() throws Exception {
        JsonNode e = JSON.readTree(post("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": -3}").body()).get("error");
        assertEquals("max_tokens", e.get("param").asText());
        assertTrue(e.has("code") && e.get("code").isNull(), e.toString());
        e = JSON.readTree(post("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"audio\"}]}]}").body()).get("error");
        assertEquals("messages[0].content[0].type", e.get("param").asText());
        HttpResponse<String> model = get("/v1/models/demo");
        assertEquals(200, model.statusCode());
        assertEquals("demo", JSON.readTree(model.body()).get("id").asText());
        HttpResponse<String> missing = get("/v1/models/gpt-4o");
        assertEquals(404, missing.statusCode());
        assertEquals("model_not_found", JSON.readTree(missing.body()).at("/error/code").asText());
        assertEquals("model", JSON.readTree(missing.body()).at("/error/param").asText());
    }

    @Test
    void aPromptTooLongForAStreamIsA400BeforeAnythingIsSent() throws Exception {
        String longText = "word ".repeat(5000);                              // the demo context is 4096 tokens
        for (String stream : new String[] {"true", "false"}) {
            HttpResponse<String> r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"" + longText + "\"}], \"stream\": " + stream + "}");
            assertEquals(400, r.statusCode(), r.body());
            JsonNode e = JSON.readTree(r.body()).get("error");
            assertEquals("context_length_exceeded", e.get("code").asText());
            assertEquals("messages", e.get("param").asText());
        }
    }

    @Test
    void chunksCarryNullFinishReasonsAndUsageOnlyWhenAskedFor() throws Exception {
        for (boolean usage : new boolean[] {false, true}) {
            HttpResponse<String> r = post("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 3, \"stream\": true"
                    + (usage ? ", \"stream_options\": {\"include_usage\": true}" : "") + "}");
            List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
            assertEquals("[DONE]", events.getLast());
            List<JsonNode> chunks = new java.util.ArrayList<>();
            for (String ev : events.subList(0, events.size() - 1)) chunks.add(JSON.readTree(ev));
            JsonNode finish = usage ? chunks.get(chunks.size() - 2) : chunks.getLast();
            assertEquals("length", finish.at("/choices/0/finish_reason").asText());
            for (JsonNode c : chunks.subList(0, chunks.indexOf(finish))) {
                assertTrue(c.at("/choices/0").has("finish_reason") && c.at("/choices/0/finish_reason").isNull(), c.toString());
                assertTrue(!c.has("usage"), c.toString());
            }
            if (usage) {
                JsonNode u = chunks.getLast();
                assertEquals(0, u.get("choices").size());
                assertEquals(3, u.at("/usage/completion_tokens").asInt());
            } else {
                assertTrue(!finish.has("usage"), finish.toString());
            }
        }
    }

    @Test
    void completionsTakeAPromptStringWithoutTheChatTemplate() throws Exception {
        int[] ids = polyv.tokenizer().orElseThrow().encode("The cat sat on");
        GenerationResult want = direct(GenerationRequest.builderOfIds(ids).maxNewTokens(5).build());
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"demo\", \"prompt\": \"The cat sat on\", \"max_tokens\": 5}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = JSON.readTree(r.body());
        assertEquals("text_completion", o.get("object").asText());
        assertEquals(want.text(), o.at("/choices/0/text").asText());
        assertEquals(ids.length, o.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void unseededSamplingIsRandomAndTheSeedIsReported() throws Exception {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 8, \"temperature\": 1";
        java.util.Set<Long> seeds = new java.util.HashSet<>();
        java.util.Set<String> texts = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = post(body + "}");
            JsonNode o = JSON.readTree(r.body());
            seeds.add(o.get("seed").asLong());
            assertEquals(o.get("seed").asText(), r.headers().firstValue("x-polyv-seed").orElseThrow());
            texts.add(o.at("/choices/0/message/content").asText());
        }
        assertEquals(4, seeds.size(), "a fresh seed per request");
        assertTrue(texts.size() > 1, "unseeded answers differ: " + texts);
        long seed = seeds.iterator().next();
        assertEquals(text(post(body + ", \"seed\": " + seed + "}")), text(post(body + ", \"seed\": " + seed + "}")), "a given seed reproduces");
    }

    @Test
    void maxTokensIsCappedAndRequestIdsAreEchoed() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 100000}"))
                .header("x-request-id", "abc-123").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("abc-123", r.headers().firstValue("x-request-id").orElseThrow());
        JsonNode o = JSON.readTree(r.body());
        assertTrue(o.at("/usage/completion_tokens").asInt() <= 16, r.body());            // the server's cap
        assertTrue(post("{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 1}").headers().firstValue("x-request-id")
                .orElseThrow().length() >= 32, "a generated id");
    }
}

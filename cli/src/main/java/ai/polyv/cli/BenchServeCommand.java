package ai.polyv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code polyv bench serve}: a load generator for a running {@code polyv serve} (or any OpenAI-compatible server), in
 * the manner of vLLM's serving benchmark: at each concurrency, that many clients send streamed chat requests back to
 * back; per request it times the first token (TTFT), the time per output token after it (TPOT) and the whole request;
 * per level it reports percentiles, output tokens/s and requests/s.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Load-test a running server: a concurrency sweep of streamed chat requests; TTFT/TPOT/latency percentiles, tokens/s. "
                + "Prints a table; --json FILE writes JSON.")
final class BenchServeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "server base URL (default: ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--concurrency", defaultValue = "1,2,4,8,16", split = ",", paramLabel = "N,..", description = "levels (default: ${DEFAULT-VALUE})")
    int[] concurrency;

    @Option(names = "--requests", defaultValue = "0", paramLabel = "N", description = "requests per level (default: 2 x concurrency, at least 8)")
    int requests;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N", description = "tokens per answer (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--prompt", defaultValue = "Write a short story about a lighthouse keeper.", description = "the user message")
    String prompt;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Bearer key (default: $POLYV_API_KEY)")
    String apiKey;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    record Sample(double ttft, double tpot, double latency, int tokens, int status) {}

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv("POLYV_API_KEY");
        HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        ArrayNode levels = JSON.createArrayNode();
        System.out.printf(Locale.ROOT, "%5s %5s %4s | %8s %8s %8s | %8s %8s | %8s %8s | %9s %7s%n", "conc", "reqs", "err", "ttft p50", "p90", "p99",
                "tpot p50", "p90", "lat p50", "p99", "out tok/s", "req/s");
        for (int c : concurrency) {
            int n = requests > 0 ? requests : Math.max(8, 2 * c);
            AtomicInteger next = new AtomicInteger();
            List<Sample> samples = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < c; i++) {
                    fs.add(clients.submit(() -> {
                        while (next.getAndIncrement() < n) samples.add(one(http, key));
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get();
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            List<Sample> ok = samples.stream().filter(s -> s.status == 200).toList();
            long tokens = ok.stream().mapToLong(Sample::tokens).sum();
            double[] ttft = ok.stream().mapToDouble(Sample::ttft).sorted().toArray();
            double[] tpot = ok.stream().filter(s -> s.tokens > 1).mapToDouble(Sample::tpot).sorted().toArray();
            double[] lat = ok.stream().mapToDouble(Sample::latency).sorted().toArray();
            System.out.printf(Locale.ROOT, "%5d %5d %4d | %8.3f %8.3f %8.3f | %8.4f %8.4f | %8.2f %8.2f | %9.1f %7.2f%n", c, n, n - ok.size(),
                    p(ttft, 50), p(ttft, 90), p(ttft, 99), p(tpot, 50), p(tpot, 90), p(lat, 50), p(lat, 99), tokens / wall, ok.size() / wall);
            ObjectNode l = levels.addObject().put("concurrency", c).put("requests", n).put("errors", n - ok.size()).put("seconds", wall)
                    .put("output_tokens_per_s", tokens / wall).put("requests_per_s", ok.size() / wall);
            for (var m : List.of(new Object[] {"ttft_s", ttft}, new Object[] {"tpot_s", tpot}, new Object[] {"latency_s", lat})) {
                double[] v = (double[]) m[1];
                l.putObject((String) m[0]).put("mean", Arrays.stream(v).average().orElse(0)).put("p50", p(v, 50)).put("p90", p(v, 90)).put("p99", p(v, 99));
            }
        }
        if (json != null) {
            ObjectNode root = JSON.createObjectNode().put("url", url).put("max_tokens", maxTokens).put("prompt", prompt);
            root.set("levels", levels);
            Files.writeString(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        }
        return 0;
    }

    private Sample one(HttpClient http, String key) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("max_tokens", maxTokens).put("stream", true).put("temperature", 0);
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).header("Content-Type", "application/json");
        if (key != null) b.header("Authorization", "Bearer " + key);
        long t0 = System.nanoTime(), first = 0;
        int tokens = 0;
        HttpResponse<java.io.InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            if (r.statusCode() != 200) return new Sample(0, 0, 0, 0, r.statusCode());
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                JsonNode c = JSON.readTree(line.substring(6));
                if (c.has("error")) return new Sample(0, 0, 0, 0, 500);
                if (!c.at("/choices/0/delta/content").asText("").isEmpty() && first == 0) first = System.nanoTime();
                if (c.has("usage")) tokens = c.at("/usage/completion_tokens").asInt();
            }
        }
        long end = System.nanoTime();
        if (first == 0) first = end;
        return new Sample((first - t0) / 1e9, tokens > 1 ? (end - first) / 1e9 / (tokens - 1) : 0, (end - t0) / 1e9, tokens, 200);
    }

    /** The q-th percentile of sorted values (nearest rank); 0 when empty. */
    static double p(double[] sorted, double q) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(q / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}

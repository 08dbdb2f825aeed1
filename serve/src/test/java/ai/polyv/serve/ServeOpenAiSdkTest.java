package ai.polyv.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.polyv.core.GenerationService;
import ai.polyv.core.PolyV;
import ai.polyv.core.backend.CpuBackend;
import ai.polyv.core.demo.DemoFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server driven by the official OpenAI Node SDK (the version pinned in {@code src/test/node/openai-conformance/package.json},
 * locked by its package-lock.json, installed into {@code target/} by {@code npm ci} on the first run): chat, stream, completions, models list and
 * retrieve, errors with their status, abort. Skipped, with a message, where node or npm (or the registry) is missing.
 */
class ServeOpenAiSdkTest {

    static String run(Path dir, long seconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return null;
        }
        String text = new String(out, StandardCharsets.UTF_8);
        return p.exitValue() == 0 ? text : "FAILED (exit " + p.exitValue() + ")\n" + text;
    }

    static boolean available(String tool) {
        try {
            return run(Path.of("."), 30, tool, "--version") instanceof String s && !s.startsWith("FAILED");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void theOfficialNodeSdkWorksAgainstTheServer() throws Exception {
        assumeTrue(available("node") && available("npm"), "node and npm are not installed: the OpenAI Node SDK conformance script is skipped");
        Path src = Path.of("src/test/node/openai-conformance"), dir = Path.of("target/openai-conformance");
        Files.createDirectories(dir);
        for (String f : List.of("package.json", "package-lock.json", "conformance.mjs")) Files.copy(src.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        if (!Files.isDirectory(dir.resolve("node_modules/openai"))) {
            String out = run(dir, 300, "npm", "ci", "--no-audit", "--no-fund");
            assumeTrue(out != null && !out.startsWith("FAILED"), "npm install of the OpenAI SDK failed (offline?): the conformance script is skipped\n" + out);
        }
        try (PolyV polyv = PolyV.load(DemoFixture.checkpoint(), new CpuBackend(2));
             GenerationService service = new GenerationService(polyv, 4);
             ChatServer server = new ChatServer(service, "demo", "127.0.0.1", 0, new ChatServer.Options()
                     .defaults(ChatRequests.Defaults.openAi(4000)).apiKey("sk-polyv-test"))) {
            String out = run(dir, 300, "node", "conformance.mjs", "http://127.0.0.1:" + server.port() + "/v1", "sk-polyv-test", "demo");
            assertTrue(out != null, "the conformance script did not finish in 300 s");
            assertTrue(out.strip().endsWith("ok 7 checks"), out);
            assertEquals(0, server.inFlight());
        }
    }
}

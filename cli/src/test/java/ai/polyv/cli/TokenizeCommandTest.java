package ai.polyv.cli;

import ai.polyv.testsupport.SharedData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizeCommandTest {
    static final Path QWEN = SharedData.qwenTokenizer();
    static final String TOKENIZER = QWEN.resolve("tokenizer.json").toString();

    @TempDir
    Path tmp;

    private static final java.util.Map<Path, ai.polyv.tokenizer.Tokenizer> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    /** Tokenizer.load, once per file per test JVM (loading the 7 MB Qwen file takes about a second). */
    static ai.polyv.tokenizer.Tokenizer load(Path p) {
        ai.polyv.tokenizer.Tokenizer t = LOADED.get(p);
        if (t == null) {
            t = ai.polyv.tokenizer.Tokenizer.load(p);
            LOADED.put(p, t);
        }
        return t;
    }

    record Result(int status, String out, String err) {}

    static Result run(byte[] stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TokenizeCommand(new ByteArrayInputStream(stdin), TokenizeCommandTest::load));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    static Result run(String stdin, String... args) {
        return run(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    static JsonNode golden() throws Exception {
        return new ObjectMapper().readTree(QWEN.resolve("golden-hf.json").toFile()).get("samples");
    }

    static String ids(JsonNode sample) {
        List<String> s = new ArrayList<>();
        sample.get("ids").forEach(i -> s.add(i.asText()));
        return String.join(" ", s);
    }

    @Test
    void encodesStdinExactlyLikeHf() throws Exception {
        Result r = run("Hello world", "--tokenizer", TOKENIZER);
        assertEquals(0, r.status(), r.err());
        assertEquals("9707 1879\n", r.out());
        // golden samples (HF tokenizers ids): CJK, emoji, special tokens written in the text, ""; all 26 in the jsonl test
        for (int i : new int[] {3, 8, 11, 15, 21}) {
            JsonNode s = golden().get(i);
            Result g = run(s.get("text").asText(), "--tokenizer", TOKENIZER);
            assertEquals(0, g.status(), g.err());
            assertEquals(ids(s) + "\n", g.out(), s.get("text").asText());
        }
    }

    @Test
    void decodesIdsSeparatedBySpacesCommasAndBrackets() {
        assertEquals("Hello world", run("9707 1879\n", "--tokenizer", TOKENIZER, "--decode").out());
        assertEquals("Hello world", run("[9707, 1879]", "--tokenizer", TOKENIZER, "--decode").out());
        assertEquals("<|im_start|>user\n", run("151644,872,198", "--tokenizer", TOKENIZER, "--decode").out());
        assertEquals("user\n", run("151644 872 198", "--tokenizer", TOKENIZER, "--decode", "--skip-special").out());
        assertEquals("", run("", "--tokenizer", TOKENIZER, "--decode").out());
    }

    @Test
    void decodeRoundTripsNonAsciiText() throws Exception {
        JsonNode s = golden().get(8);   // Chinese
        Result r = run(ids(s), "--tokenizer", TOKENIZER, "--decode");
        assertEquals(0, r.status(), r.err());
        assertEquals(s.get("text").asText(), r.out());
    }

    @Test
    void unknownOrMalformedIdsAreClearErrors() {
        Result r = run("9707 999999", "--tokenizer", TOKENIZER, "--decode");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("polyv tokenize: id #2 (999999) is not a token of "), r.err());
        assertTrue(r.err().contains("[0, 151669)"), r.err());
        Result neg = run("-1", "--tokenizer", TOKENIZER, "--decode");
        assertEquals(2, neg.status());
        assertTrue(neg.err().contains("id #1 (-1)"), neg.err());
        Result word = run("12 abc", "--tokenizer", TOKENIZER, "--decode");
        assertEquals(2, word.status());
        assertTrue(word.err().contains("id #2 \"abc\" is not an integer"), word.err());
    }

    @Test
    void invalidUtf8OnStdinIsAnError() {
        Result r = run(new byte[] {'a', (byte) 0xC3}, "--tokenizer", TOKENIZER);
        assertEquals(2, r.status());
        assertTrue(r.err().contains("stdin is not valid UTF-8"), r.err());
    }

    @Test
    void missingTokenizerIsAnErrorNamingIt() {
        Result r = run("x", "--tokenizer", tmp.resolve("nope.json").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("tokenizer " + tmp.resolve("nope.json") + " does not exist"), r.err());
        r = run("x", "--tokenizer", "/dev/null");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("tokenizer /dev/null is not a regular file"), r.err());
        r = run("x", "--tokenizer", tmp.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("tokenizer " + tmp + " is not a regular file (it is a directory)"), r.err());
    }

    @Test
    void jsonlPathsThatAreNoRegularFilesAreNamed() throws Exception {
        Path inFile = Files.writeString(tmp.resolve("in.jsonl"), "{\"text\": \"a\"}\n");
        Result r = run("", "--tokenizer", TOKENIZER, "--jsonl", tmp.toString(), tmp.resolve("out.jsonl").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("jsonl input " + tmp + " is not a regular file (it is a directory)"), r.err());
        Path outDir = Files.createDirectory(tmp.resolve("out"));
        r = run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outDir.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains(outDir + " is not a regular file (it is a directory): not replacing it"), r.err());
        assertTrue(Files.isDirectory(outDir));
    }

    @Test
    void jsonlKeepsOrderAndMatchesHf() throws Exception {
        ObjectMapper m = new ObjectMapper();
        JsonNode samples = golden();
        StringBuilder in = new StringBuilder();
        for (JsonNode s : samples) {
            ObjectNode o = m.createObjectNode();
            o.put("text", s.get("text").asText());
            o.put("other", 1);   // extra fields are ignored
            in.append(m.writeValueAsString(o)).append('\n');
        }
        Path inFile = tmp.resolve("in.jsonl");
        Path outFile = tmp.resolve("out.jsonl");
        Files.writeString(inFile, in);
        Result r = run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outFile.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = Files.readAllLines(outFile);
        assertEquals(samples.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode got = m.readTree(lines.get(i));
            assertEquals(1, got.size(), lines.get(i));
            assertEquals(samples.get(i).get("ids"), got.get("ids"), "line " + (i + 1));
        }
        assertEquals("{\"ids\":[9707,1879]}", lines.get(0));
        assertEquals("{\"ids\":[]}", lines.get(21));
        try (var files = Files.list(tmp)) {
            assertEquals(2, files.count(), "no temp file left");
        }
    }

    @Test
    void jsonlWithManyLinesKeepsOrderAcrossBatches() throws Exception {
        StringBuilder in = new StringBuilder();
        int n = 9000;   // > 2 batches of 4096
        for (int i = 0; i < n; i++) {
            in.append("{\"text\": \"").append(i).append(" Hello world\"}\n");
        }
        Path inFile = tmp.resolve("in.jsonl");
        Path outFile = tmp.resolve("out.jsonl");
        Files.writeString(inFile, in);
        assertEquals(0, run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outFile.toString()).status());
        List<String> lines = Files.readAllLines(outFile);
        assertEquals(n, lines.size());
        ObjectMapper m = new ObjectMapper();
        ai.polyv.tokenizer.Tokenizer tok = load(Path.of(TOKENIZER));
        for (int i = 0; i < n; i += 997) {
            int[] want = tok.encode(i + " Hello world");
            assertArrayEquals(want, m.readValue(lines.get(i), Ids.class).ids(), "line " + (i + 1));
        }
    }

    record Ids(int[] ids) {}

    @Test
    void badJsonlLineNamesItsLineNumberAndLeavesOutUntouched() throws Exception {
        Path inFile = tmp.resolve("in.jsonl");
        Path outFile = tmp.resolve("out.jsonl");
        Files.writeString(outFile, "old\n");
        Files.writeString(inFile, "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"txt\": \"c\"}\n");
        Result r = run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outFile.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("in.jsonl:3: expected a JSON object with a string field \"text\""), r.err());
        assertEquals("old\n", Files.readString(outFile));

        Files.writeString(inFile, "{\"text\": \"a\"}\n\n");
        r = run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outFile.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("in.jsonl:2: expected a JSON object with a string field \"text\", found an empty line"), r.err());

        Files.writeString(inFile, "{\"text\": \"a\"\n");
        r = run("", "--tokenizer", TOKENIZER, "--jsonl", inFile.toString(), outFile.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("in.jsonl:1: not valid JSON"), r.err());
        try (var files = Files.list(tmp)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp file removed");
        }
    }
}

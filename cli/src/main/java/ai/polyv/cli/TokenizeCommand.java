package ai.polyv.cli;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import ai.polyv.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code polyv tokenize}: text on stdin to ids, {@code --decode} ids to text, {@code --jsonl IN OUT}.
 *
 * <ul>
 *   <li>default: all of stdin (strict UTF-8, used exactly, a trailing newline included) is encoded; the ids are
 *       printed space-separated on one line. Added/special tokens written in the text are matched as tokens
 *       (HF {@code encode(text, add_special_tokens=False)}).</li>
 *   <li>{@code --decode}: stdin holds ids separated by whitespace and/or commas (an enclosing {@code [...]} is
 *       allowed); the decoded text is printed exactly (no newline added). {@code --skip-special} drops special
 *       tokens. An id that is not an integer or not in the vocabulary is an error naming it and its position.</li>
 *   <li>{@code --jsonl IN OUT}: each line of IN is {@code {"text": "..."}}; OUT gets one {@code {"ids": [...]}} per
 *       line, in the same order, written atomically (temp file + rename). A bad line is an error naming IN and
 *       its line number; OUT is then left untouched.</li>
 * </ul>
 * Errors print one line on stderr and exit 2.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode stdin text to token ids (--decode: ids to text; --jsonl IN OUT: batch).")
public final class TokenizeCommand implements Callable<Integer> {
    /** Lines encoded in parallel per batch in {@code --jsonl} mode. */
    private static final int BATCH = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "a HF tokenizer.json")
    Path tokenizerFile;

    @Option(names = "--decode", description = "read token ids on stdin, print the text")
    boolean decode;

    @Option(names = "--skip-special", description = "with --decode: leave special tokens out of the text")
    boolean skipSpecial;

    @Option(names = "--jsonl", arity = "2", paramLabel = "PATH",
            description = "IN OUT: encode each line {\"text\": ...} of IN to a line {\"ids\": [...]} of OUT")
    List<Path> jsonl;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;
    private final Function<Path, Tokenizer> loader;

    public TokenizeCommand() {
        this(System.in, Tokenizer::load);
    }

    /** For tests: reads {@code stdin} instead of {@link System#in} and loads tokenizers with {@code loader}. */
    TokenizeCommand(InputStream stdin, Function<Path, Tokenizer> loader) {
        this.stdin = stdin;
        this.loader = loader;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (decode && jsonl != null) {
                throw new IllegalArgumentException("--decode and --jsonl cannot be combined");
            }
            if (skipSpecial && !decode) {
                throw new IllegalArgumentException("--skip-special only applies to --decode");
            }
            Tokenizer tok = loader.apply(tokenizerFile);
            if (jsonl != null) {
                int n = encodeJsonl(tok, jsonl.get(0), jsonl.get(1));
                err.printf(Locale.ROOT, "polyv tokenize: %d lines -> %s%n", n, jsonl.get(1));
            } else if (decode) {
                out.print(tok.decode(parseIds(tok, readStdin()), skipSpecial));
            } else {
                out.println(join(tok.encode(readStdin())));
            }
            out.flush();
            err.flush();
            return 0;
        } catch (IllegalArgumentException | IOException | UncheckedIOException e) {
            out.flush();
            err.println("polyv tokenize: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    private String readStdin() throws IOException {
        return strictUtf8(stdin.readAllBytes(), "stdin");
    }

    static String strictUtf8(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid UTF-8 (" + e.getMessage() + ")");
        }
    }

    private static String join(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 6);
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(ids[i]);
        }
        return sb.toString();
    }

    /** Ids separated by whitespace and/or commas, optionally inside one pair of brackets. */
    static int[] parseIds(Tokenizer tok, String text) {
        String s = text.strip();
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        List<String> parts = new ArrayList<>();
        for (String p : s.split("[\\s,]+")) {
            if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            String p = parts.get(i);
            long v;
            try {
                v = Long.parseLong(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "id #%d \"%s\" is not an integer", i + 1, abbreviate(p)));
            }
            if (v < 0 || v >= tok.vocabSize() || !isKnown(tok, (int) v)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "id #%d (%d) is not a token of %s (ids are in [0, %d))", i + 1, v, tok.source(), tok.vocabSize()));
            }
            ids[i] = (int) v;
        }
        return ids;
    }

    private static boolean isKnown(Tokenizer tok, int id) {
        try {
            tok.tokenString(id);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /** Encodes IN line by line to OUT (atomically); returns the number of lines. */
    static int encodeJsonl(Tokenizer tok, Path in, Path out) throws IOException {
        PathChecks.regularFile("jsonl input", in);
        int[] count = {0};
        try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8)) {   // reports bad UTF-8
            AtomicFiles.write(out, ch -> {
                Writer w = new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(ch), StandardCharsets.UTF_8),
                        1 << 16);
                JsonGenerator g = JSON.getFactory().createGenerator(w);
                g.setRootValueSeparator(null);   // one object per line, no separator of Jackson's own
                List<String> texts = new ArrayList<>(BATCH);
                int lineNo = 0;
                while (true) {
                    texts.clear();
                    String line;
                    while (texts.size() < BATCH && (line = readLine(r, in, lineNo + 1)) != null) {
                        lineNo++;
                        texts.add(textOf(line, in, lineNo));
                    }
                    if (texts.isEmpty()) {
                        break;
                    }
                    int[][] ids = new int[texts.size()][];
                    IntStream.range(0, texts.size()).parallel().forEach(i -> ids[i] = tok.encode(texts.get(i)));
                    for (int[] a : ids) {
                        g.writeStartObject();
                        g.writeFieldName("ids");
                        g.writeArray(a, 0, a.length);
                        g.writeEndObject();
                        g.writeRaw('\n');
                    }
                    count[0] += texts.size();
                }
                g.flush();
                w.flush();
            });
        }
        return count[0];
    }

    private static String readLine(BufferedReader r, Path in, int lineNo) throws IOException {
        try {
            return r.readLine();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s:%d: not valid UTF-8", in, lineNo));
        }
    }

    private static String textOf(String line, Path in, int lineNo) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s:%d: not valid JSON: %s", in, lineNo,
                    e.getOriginalMessage()));
        }
        boolean empty = n == null || n.isMissingNode();
        JsonNode t = empty ? null : n.get("text");
        if (empty || !n.isObject() || t == null || !t.isTextual()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s:%d: expected a JSON object with a string field \"text\", found %s", in, lineNo,
                    empty ? "an empty line" : abbreviate(n.toString())));
        }
        return t.textValue();
    }
}

package ai.polyv.bench.tokenizer;

import ai.polyv.loader.util.PathChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Real natural-language text for the tokenizer benchmark, split into documents.
 *
 * <p>Default source ({@link #systemText}): the license texts every Debian system ships, {@code
 * /usr/share/common-licenses/*} (package base-files) then {@code /usr/share/doc/*}{@code /copyright} (one per
 * installed package), in path order. These are English prose (licenses, notices, package descriptions, author
 * lists) with some non-ASCII names. The same license is copied into many packages, so paragraphs (blank-line
 * separated) are kept only at their first occurrence: repeated text would flatter any cache. Files that are not
 * valid UTF-8 are skipped. The result depends on the installed packages; the benchmark prints its size and a hash.
 */
public final class TextCorpus {
    public static final Path LICENSES = Path.of("/usr/share/common-licenses");
    public static final Path DOCS = Path.of("/usr/share/doc");

    /**
     * @param text    the corpus text
     * @param files   how many files it was read from
     * @param source  where it came from, in words
     */
    public record Corpus(String text, int files, String source) {
        public long utf8Bytes() {
            return text.getBytes(StandardCharsets.UTF_8).length;
        }
    }

    private TextCorpus() {}

    /** The deduplicated system license/copyright text, cut after the paragraph that reaches {@code maxBytes}. */
    public static Corpus systemText(long maxBytes) {
        List<Path> files = new ArrayList<>(sortedFiles(LICENSES, 1));
        files.addAll(sortedFiles(DOCS, 2).stream().filter(p -> p.getFileName().toString().equals("copyright")).toList());
        Set<String> seen = new HashSet<>();
        StringBuilder sb = new StringBuilder();
        long bytes = 0;
        int used = 0;
        for (Path f : files) {
            if (bytes >= maxBytes) {
                break;
            }
            String t = readUtf8OrNull(f);
            if (t == null) {
                continue;
            }
            used++;
            for (String para : t.replace("\r\n", "\n").split("\n[ \t]*\n")) {
                String key = String.join(" ", para.strip().split("\\s+"));
                if (key.isEmpty() || !seen.add(key)) {
                    continue;
                }
                if (!sb.isEmpty()) {
                    sb.append("\n\n");
                }
                sb.append(para);
                bytes += para.getBytes(StandardCharsets.UTF_8).length + 2;
                if (bytes >= maxBytes) {
                    break;
                }
            }
        }
        return new Corpus(sb.toString(), used, LICENSES + "/* and " + DOCS + "/*/copyright, paragraphs deduplicated");
    }

    /** A text file given by the user. */
    public static Corpus file(Path file) {
        PathChecks.regularFile("corpus", file);
        String t = readUtf8OrNull(file);
        if (t == null) {
            throw new IllegalArgumentException(file + ": not a readable UTF-8 text file");
        }
        return new Corpus(t, 1, file.toString());
    }

    /**
     * Splits {@code text} into documents of about {@code chars} characters: each ends at the first whitespace at
     * or after {@code chars} characters (never inside a surrogate pair); the concatenation is {@code text}.
     */
    public static List<String> documents(String text, int chars) {
        if (chars < 1) {
            throw new IllegalArgumentException("document size must be positive, got " + chars);
        }
        List<String> docs = new ArrayList<>();
        int start = 0;
        int n = text.length();
        while (start < n) {
            int end = Math.min(n, start + chars);
            while (end < n && !Character.isWhitespace(text.charAt(end))) {
                end++;
            }
            if (end < n && Character.isLowSurrogate(text.charAt(end))) {
                end++;
            }
            docs.add(text.substring(start, end));
            start = end;
        }
        return docs;
    }

    private static List<Path> sortedFiles(Path dir, int depth) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String readUtf8OrNull(Path f) {
        try {
            byte[] b = Files.readAllBytes(f);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}

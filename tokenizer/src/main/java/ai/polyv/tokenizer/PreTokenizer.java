package ai.polyv.tokenizer;

import java.nio.CharBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits normalized text into pre-tokens (the {@code Split(regex, Isolated)} step); each pre-token's UTF-8
 * bytes then go through BPE (the ByteLevel step with {@code use_regex=false}).
 */
sealed interface PreTokenizer permits PreTokenizer.Qwen2Scanner, PreTokenizer.RegexSplit {

    /** The Qwen2 split regex exactly as it appears in tokenizer.json. */
    String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** GPT-2's pattern, used by a ByteLevel pre-tokenizer with {@code use_regex=true}. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** End (exclusive) of the pre-token that starts at {@code i} in {@code a[.., end)}; {@code i < end}. */
    int next(char[] a, int i, int end);

    String describe();

    static PreTokenizer forPattern(String regex) {
        return regex.equals(QWEN2_PATTERN) ? new Qwen2Scanner() : new RegexSplit(regex);
    }

    /**
     * Hand-written equivalent of {@link #QWEN2_PATTERN} (leftmost-first alternation, greedy quantifiers,
     * backtracking worked out per alternative); {@code PreTokenizerTest} checks it against the regex.
     */
    final class Qwen2Scanner implements PreTokenizer {
        @Override
        public int next(char[] a, int i, int end) {
            char c = a[i];
            // 1: (?i:'s|'t|'re|'ve|'m|'ll|'d); case folding also maps U+017F (long s) to s
            if (c == '\'' && i + 1 < end) {
                char d = a[i + 1];
                char l = d < 128 ? (char) (d | 0x20) : d;
                switch (l) {
                    case 's', 't', 'm', 'd', '\u017F' -> {
                        return i + 2;
                    }
                    case 'r', 'v' -> {
                        if (i + 2 < end && (a[i + 2] | 0x20) == 'e') {
                            return i + 3;
                        }
                    }
                    case 'l' -> {
                        if (i + 2 < end && (a[i + 2] | 0x20) == 'l') {
                            return i + 3;
                        }
                    }
                    default -> { }
                }
            }
            int n = 1;
            byte cls;
            if (Character.isHighSurrogate(c) && i + 1 < end) {
                cls = CharClass.of(Character.toCodePoint(c, a[i + 1]));
                n = 2;
            } else {
                cls = CharClass.ofBmp(c);
            }
            // 2: [^\r\n\p{L}\p{N}]?\p{L}+
            if (cls == CharClass.LETTER) {
                return letters(a, i + n, end);
            }
            if ((cls == CharClass.OTHER || cls == CharClass.SPACE) && i + n < end && classAt(a, i + n, end) == CharClass.LETTER) {
                return letters(a, i + n, end);
            }
            // 3: \p{N}
            if (cls == CharClass.NUMBER) {
                return i + n;
            }
            // 4: ' '?[^\s\p{L}\p{N}]+[\r\n]*
            int j = -1;
            if (cls == CharClass.OTHER) {
                j = i;
            } else if (c == ' ' && i + 1 < end && classAt(a, i + 1, end) == CharClass.OTHER) {
                j = i + 1;
            }
            if (j >= 0) {
                while (j < end && classAt(a, j, end) == CharClass.OTHER) {
                    j += Character.isHighSurrogate(a[j]) && j + 1 < end ? 2 : 1;
                }
                while (j < end && (a[j] == '\r' || a[j] == '\n')) {
                    j++;
                }
                return j;
            }
            // c is whitespace (all White_Space code points are in the BMP)
            int lastNl = -1;
            j = i;
            while (j < end) {
                byte k = CharClass.ofBmp(a[j]);
                if ((k & CharClass.SPACE) == 0 || Character.isSurrogate(a[j])) {
                    break;
                }
                if (k == CharClass.NEWLINE) {
                    lastNl = j + 1;
                }
                j++;
            }
            // 5: \s*[\r\n]+  -> up to and including the last newline of the run
            if (lastNl >= 0) {
                return lastNl;
            }
            // 6: \s+(?!\S)  -> whole run at the end of text, otherwise all but its last char
            if (j == end) {
                return j;
            }
            if (j - 1 > i) {
                return j - 1;
            }
            // 7: \s+
            return j;
        }

        private static int letters(char[] a, int j, int end) {
            while (j < end) {
                char c = a[j];
                if (Character.isHighSurrogate(c) && j + 1 < end) {
                    if (CharClass.of(Character.toCodePoint(c, a[j + 1])) != CharClass.LETTER) {
                        break;
                    }
                    j += 2;
                } else {
                    if (CharClass.ofBmp(c) != CharClass.LETTER) {
                        break;
                    }
                    j++;
                }
            }
            return j;
        }

        private static byte classAt(char[] a, int j, int end) {
            char c = a[j];
            if (Character.isHighSurrogate(c) && j + 1 < end) {
                return CharClass.of(Character.toCodePoint(c, a[j + 1]));
            }
            return CharClass.ofBmp(c);
        }

        @Override
        public String describe() {
            return "Split(Qwen2 regex, Isolated) [hand-written scanner]";
        }
    }

    /**
     * Any other split regex, run with java.util.regex in UNICODE_CHARACTER_CLASS mode ({@code \s} is
     * White_Space, {@code (?i)} folds Unicode case), which agrees with Oniguruma for these patterns.
     * Slower than the scanner; the gaps between matches are pre-tokens too (Isolated behaviour).
     */
    final class RegexSplit implements PreTokenizer {
        private final String regex;
        private final Pattern pattern;

        RegexSplit(String regex) {
            this.regex = regex;
            this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        }

        @Override
        public int next(char[] a, int i, int end) {
            Matcher m = pattern.matcher(CharBuffer.wrap(a, 0, end));
            m.region(i, end);
            while (m.find()) {
                if (m.end() == m.start()) {
                    if (m.start() >= end) {
                        break;
                    }
                    continue; // empty matches do not split
                }
                return m.start() > i ? m.start() : m.end();
            }
            return end;
        }

        @Override
        public String describe() {
            return "Split(/" + regex + "/, Isolated) [java.util.regex]";
        }
    }
}

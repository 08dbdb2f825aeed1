package ai.polyv.tokenizer;

/**
 * Code-point classes used by the pre-tokenizer, matching the Unicode properties of the HF split regex:
 * {@code \p{L}} (general category L*), {@code \p{N}} (Nd, Nl, No), {@code \s} (the Unicode White_Space
 * property, as Oniguruma and Rust's regex define it; note this differs from {@link Character#isWhitespace}).
 * The BMP is served from a 64 KiB table; supplementary code points are classified on the fly.
 */
final class CharClass {
    static final byte OTHER = 0;
    static final byte LETTER = 1;
    static final byte NUMBER = 2;
    static final byte SPACE = 4;      // White_Space, excluding \r and \n
    static final byte NEWLINE = 8 | SPACE; // \r or \n (both are also \s)

    private static final byte[] BMP = new byte[65536];

    static {
        for (int c = 0; c < 65536; c++) {
            BMP[c] = compute(c);
        }
    }

    private CharClass() {}

    /** Class of a code point (never a lone surrogate: callers replace those with U+FFFD first). */
    static byte of(int cp) {
        return cp < 65536 ? BMP[cp] : compute(cp);
    }

    static byte ofBmp(char c) {
        return BMP[c];
    }

    static boolean isWhiteSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    private static byte compute(int cp) {
        if (cp == '\r' || cp == '\n') {
            return NEWLINE;
        }
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }
}

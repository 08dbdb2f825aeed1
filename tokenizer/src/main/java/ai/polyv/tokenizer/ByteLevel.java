package ai.polyv.tokenizer;

/**
 * GPT-2 byte-level alphabet: every byte maps to one printable code point, so vocab strings such as
 * {@code "Ġhello"} stand for byte sequences ({@code " hello"}). Printable Latin-1 bytes map to themselves,
 * the other 68 bytes to U+0100.. in byte order.
 */
final class ByteLevel {
    /** byte (0..255) -> code point used in vocab strings. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** code point (< 0x200) -> byte, or -1. */
    private static final short[] CHAR_TO_BYTE = new short[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {}

    /** Byte of a byte-level char, or -1 when the char is not in the alphabet. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Bytes of a byte-level string, or null when some char is not in the alphabet. */
    static byte[] toBytes(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            int b = byteOf(s.charAt(i));
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }

    static String toChars(byte[] bytes) {
        char[] cs = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            cs[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(cs);
    }
}

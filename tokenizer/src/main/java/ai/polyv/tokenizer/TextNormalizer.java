package ai.polyv.tokenizer;

import java.text.Normalizer;

/** The normalizers we support: none, or Unicode NFC (a {@code Sequence} of these collapses to one). */
sealed interface TextNormalizer permits TextNormalizer.Identity, TextNormalizer.Nfc {

    /** Normalized form of {@code a[from, to)}, or null when it is already normalized (the common case). */
    String normalizeOrNull(char[] a, int from, int to);

    String apply(String s);

    record Identity() implements TextNormalizer {
        @Override
        public String normalizeOrNull(char[] a, int from, int to) {
            return null;
        }

        @Override
        public String apply(String s) {
            return s;
        }
    }

    record Nfc() implements TextNormalizer {
        @Override
        public String normalizeOrNull(char[] a, int from, int to) {
            // Every code point below U+0300 is NFC-stable and never composes with its neighbour.
            int i = from;
            while (i < to && a[i] < 0x300) {
                i++;
            }
            if (i == to) {
                return null;
            }
            String s = new String(a, from, to - from);
            return Normalizer.isNormalized(s, Normalizer.Form.NFC) ? null : Normalizer.normalize(s, Normalizer.Form.NFC);
        }

        @Override
        public String apply(String s) {
            return Normalizer.normalize(s, Normalizer.Form.NFC);
        }
    }
}

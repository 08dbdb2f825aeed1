package ai.polyv.tokenizer;

import java.util.Arrays;

/** Immutable open-addressing map from byte strings to ids. */
final class BytesToId {
    private final byte[][] keys;
    private final int[] ids;
    private final int mask;

    BytesToId(byte[][] tokens) {
        int cap = Integer.highestOneBit(Math.max(16, tokens.length * 2)) << 1;
        keys = new byte[cap][];
        ids = new int[cap];
        mask = cap - 1;
        for (int id = 0; id < tokens.length; id++) {
            byte[] t = tokens[id];
            if (t == null) {
                continue;
            }
            int s = hash(t, 0, t.length) & mask;
            while (keys[s] != null && !Arrays.equals(keys[s], t)) {
                s = (s + 1) & mask;
            }
            if (keys[s] == null) {
                keys[s] = t;
                ids[s] = id;
            }
        }
    }

    private static int hash(byte[] b, int off, int len) {
        int h = 0x811C9DC5;
        for (int i = off; i < off + len; i++) {
            h = (h ^ b[i]) * 0x01000193;
        }
        return h ^ (h >>> 16);
    }

    /** Id of {@code b[off, off+len)}, or -1. */
    int get(byte[] b, int off, int len) {
        int s = hash(b, off, len) & mask;
        while (keys[s] != null) {
            if (Arrays.equals(keys[s], 0, keys[s].length, b, off, off + len)) {
                return ids[s];
            }
            s = (s + 1) & mask;
        }
        return -1;
    }
}

package ai.polyv.tokenizer;

/** Per-thread reusable buffers of one encode call (no per-word allocation on the hot path). */
final class Scratch {
    private final int[][] ints = {new int[256], new int[256], new int[256]};
    private long[] longs = new long[768];
    byte[] bytes = new byte[1024];
    IntList out = new IntList(1024);
    final int[] match = new int[3];

    /** Drops buffers that grew very large (one huge input should not pin memory for the thread's life). */
    void trim() {
        if (out.capacity() > (1 << 20)) {
            out = new IntList(1024);
        }
        if (bytes.length > (1 << 20)) {
            bytes = new byte[1024];
        }
    }

    /** An int buffer (slot 0..2) of at least {@code n} entries. */
    int[] ints(int slot, int n) {
        if (ints[slot].length < n) {
            ints[slot] = new int[Math.max(n, 2 * ints[slot].length)];
        }
        return ints[slot];
    }

    /** A long buffer of at least {@code 3 * n} entries (room for the BPE heap). */
    long[] longs(int slot, int n) {
        if (longs.length < 3 * n) {
            longs = new long[Math.max(3 * n, 2 * longs.length)];
        }
        return longs;
    }

    byte[] bytes(int n) {
        if (bytes.length < n) {
            bytes = new byte[Math.max(n, 2 * bytes.length)];
        }
        return bytes;
    }
}

package ai.polyv.tokenizer;

import java.util.Arrays;

/**
 * Byte-level BPE model: a word (the UTF-8 bytes of one pre-token) starts as one symbol per byte and the
 * adjacent pair with the lowest merge rank is merged until no pair has a merge; ties (same pair at several
 * places) go to the leftmost one, exactly like HF tokenizers' {@code Word::merge_all}.
 *
 * <p>Merges live in an open-addressing hash keyed by the id pair packed into a long; short words use an
 * array scan, long words (over {@link #HEAP_THRESHOLD} bytes) a binary heap with lazy invalidation so that
 * 10,000 repeated characters cost O(n log n), not O(n^2). A shared direct-mapped word cache holds the ids
 * of short words; entries are immutable, so racy reads from several threads are safe.
 */
final class Bpe {
    static final int HEAP_THRESHOLD = 48;
    private static final int CACHE_MAX_WORD = 64;
    private static final int CACHE_BITS = 17;

    private final int[] byteToId;            // [256] id of each single-byte token
    private final long[] table;              // [2 * capacity]: key, (rank << 32 | mergedId); key -1 = empty
    private final int mask;
    private final BytesToId vocab;           // only when ignoreMerges
    private final CacheEntry[] cache = new CacheEntry[1 << CACHE_BITS];

    private record CacheEntry(byte[] word, int hash, int[] ids) {}

    /**
     * @param byteToId [256] ids of the single-byte tokens
     * @param mergeLeft [merges] left id of merge r (rank r)
     * @param mergeRight [merges] right id
     * @param mergeResult [merges] id of the merged token
     * @param ignoreMergesVocab non-null when {@code ignore_merges}: whole words found here are one token
     */
    Bpe(int[] byteToId, int[] mergeLeft, int[] mergeRight, int[] mergeResult, BytesToId ignoreMergesVocab) {
        this.byteToId = byteToId.clone();
        int cap = Integer.highestOneBit(Math.max(16, mergeLeft.length * 2)) << 1;
        this.table = new long[2 * cap];
        this.mask = cap - 1;
        for (int i = 0; i < cap; i++) {
            table[2 * i] = -1L;
        }
        for (int r = 0; r < mergeLeft.length; r++) {
            long key = key(mergeLeft[r], mergeRight[r]);
            int slot = slot(key);
            while (table[2 * slot] != -1L && table[2 * slot] != key) {
                slot = (slot + 1) & mask;
            }
            if (table[2 * slot] == key) {
                continue; // a duplicated merge keeps its first (lowest) rank, as HF does
            }
            table[2 * slot] = key;
            table[2 * slot + 1] = ((long) r << 32) | (mergeResult[r] & 0xFFFFFFFFL);
        }
        this.vocab = ignoreMergesVocab;
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** (rank << 32 | mergedId) of the pair, or -1 when the pair has no merge. */
    long lookup(int a, int b) {
        long key = key(a, b);
        int slot = slot(key);
        while (true) {
            long k = table[2 * slot];
            if (k == key) {
                return table[2 * slot + 1];
            }
            if (k == -1L) {
                return -1L;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Encodes {@code word[0, len)} and appends its ids to {@code out}. */
    void encodeWord(byte[] word, int len, IntList out, Scratch s) {
        if (len == 1) {
            out.add(byteToId[word[0] & 0xFF]);
            return;
        }
        if (len <= CACHE_MAX_WORD) {
            int h = 0x811C9DC5;
            for (int i = 0; i < len; i++) {
                h = (h ^ word[i]) * 0x01000193;
            }
            int idx = (h ^ (h >>> 15)) & (cache.length - 1);
            CacheEntry e = cache[idx];
            if (e != null && e.hash == h && Arrays.equals(e.word, 0, e.word.length, word, 0, len)) {
                out.addAll(e.ids);
                return;
            }
            int[] ids = encodeUncached(word, len, s);
            cache[idx] = new CacheEntry(Arrays.copyOf(word, len), h, ids);
            out.addAll(ids);
            return;
        }
        out.addAll(encodeUncached(word, len, s));
    }

    int[] encodeUncached(byte[] word, int len, Scratch s) {
        if (vocab != null) {
            int id = vocab.get(word, 0, len);
            if (id >= 0) {
                return new int[] {id};
            }
        }
        return len <= HEAP_THRESHOLD ? mergeByScan(word, len, s) : mergeByHeap(word, len, s);
    }

    /** O(n^2) reference-style merge loop; fast for short words. */
    int[] mergeByScan(byte[] word, int len, Scratch s) {
        int[] sym = s.ints(0, len);
        long[] pair = s.longs(0, len); // pair[i] = lookup(sym[i], sym[i+1])
        for (int i = 0; i < len; i++) {
            sym[i] = byteToId[word[i] & 0xFF];
        }
        int n = len;
        for (int i = 0; i + 1 < n; i++) {
            pair[i] = lookup(sym[i], sym[i + 1]);
        }
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int bi = -1;
            for (int i = 0; i + 1 < n; i++) {
                long p = pair[i];
                if (p >= 0 && p < best) { // packed value orders by rank first
                    best = p;
                    bi = i;
                }
            }
            if (bi < 0) {
                break;
            }
            sym[bi] = (int) best;
            System.arraycopy(sym, bi + 2, sym, bi + 1, n - bi - 2);
            System.arraycopy(pair, bi + 2, pair, bi + 1, n - bi - 2);
            n--;
            if (bi > 0) {
                pair[bi - 1] = lookup(sym[bi - 1], sym[bi]);
            }
            if (bi + 1 < n) {
                pair[bi] = lookup(sym[bi], sym[bi + 1]);
            }
        }
        return Arrays.copyOf(sym, n);
    }

    /** O(n log n) merge with a min-heap of (rank, position) candidates and a doubly linked symbol list. */
    int[] mergeByHeap(byte[] word, int len, Scratch s) {
        int[] sym = s.ints(0, len);
        int[] prev = s.ints(1, len);
        int[] next = s.ints(2, len);
        long[] heap = s.longs(0, len);
        int hn = 0;
        for (int i = 0; i < len; i++) {
            sym[i] = byteToId[word[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < len ? i + 1 : -1;
        }
        for (int i = 0; i + 1 < len; i++) {
            long p = lookup(sym[i], sym[i + 1]);
            if (p >= 0) {
                hn = push(heap, hn, (p >>> 32) << 32 | i);
            }
        }
        int count = len;
        while (hn > 0) {
            long top = heap[0];
            hn = pop(heap, hn);
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (sym[pos] < 0 || next[pos] < 0) {
                continue; // removed, or no right neighbour any more
            }
            int right = next[pos];
            long p = lookup(sym[pos], sym[right]);
            if (p < 0 || (int) (p >>> 32) != rank) {
                continue; // stale: the pair at pos changed since it was pushed
            }
            sym[pos] = (int) p;
            sym[right] = -1;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) {
                prev[after] = pos;
            }
            count--;
            int before = prev[pos];
            if (before >= 0) {
                long q = lookup(sym[before], sym[pos]);
                if (q >= 0) {
                    hn = push(heap, hn, (q >>> 32) << 32 | before);
                }
            }
            if (after >= 0) {
                long q = lookup(sym[pos], sym[after]);
                if (q >= 0) {
                    hn = push(heap, hn, (q >>> 32) << 32 | pos);
                }
            }
        }
        int[] out = new int[count];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    // The heap never holds more than len entries at once? Each merge pushes at most 2 and removes 1 symbol;
    // pushes total <= (len - 1) + 2 * (len - 1), so the heap array is sized 3 * len by Scratch.longs.
    private static int push(long[] h, int n, long v) {
        int i = n;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (h[parent] <= v) {
                break;
            }
            h[i] = h[parent];
            i = parent;
        }
        h[i] = v;
        return n + 1;
    }

    private static int pop(long[] h, int n) {
        n--;
        long v = h[n];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) {
                break;
            }
            if (c + 1 < n && h[c + 1] < h[c]) {
                c++;
            }
            if (v <= h[c]) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        if (n > 0) {
            h[i] = v;
        }
        return n;
    }
}

package ai.polyv.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost-longest (like HF's Aho-Corasick with LeftmostLongest): the match
 * that starts first wins, and of those the longest. Candidates are indexed by their first char.
 */
final class AddedTokenMatcher {
    private final boolean[] first = new boolean[65536];
    private final Map<Character, AddedToken[]> byFirst = new HashMap<>();
    final boolean isEmpty;

    AddedTokenMatcher(List<AddedToken> tokens, TextNormalizer contentNormalizer) {
        Map<Character, List<AddedToken>> groups = new HashMap<>();
        for (AddedToken t : tokens) {
            String c = contentNormalizer.apply(t.content());
            if (c.isEmpty()) {
                continue;
            }
            AddedToken n = new AddedToken(t.id(), c, t.singleWord(), t.lstrip(), t.rstrip(), t.normalized(), t.special());
            groups.computeIfAbsent(c.charAt(0), k -> new ArrayList<>()).add(n);
        }
        for (var e : groups.entrySet()) {
            List<AddedToken> l = e.getValue();
            l.sort(Comparator.comparingInt((AddedToken t) -> -t.content().length()).thenComparingInt(AddedToken::id));
            byFirst.put(e.getKey(), l.toArray(AddedToken[]::new));
            first[e.getKey()] = true;
        }
        isEmpty = groups.isEmpty();
    }

    /**
     * Next match in {@code a[from, end)}: writes {start, end, id} into {@code out} (start/end include stripped
     * whitespace, never before {@code floor}) and returns true, or returns false when there is none.
     */
    boolean find(char[] a, int from, int end, int floor, int[] out) {
        if (isEmpty) {
            return false;
        }
        for (int p = from; p < end; p++) {
            char c = a[p];
            if (!first[c]) {
                continue;
            }
            for (AddedToken t : byFirst.get(c)) {
                String s = t.content();
                int len = s.length();
                if (p + len <= end && regionEquals(a, p, s)) {
                    int start = p;
                    int stop = p + len;
                    if (t.lstrip()) {
                        while (start > floor && CharClass.isWhiteSpace(a[start - 1])) {
                            start--;
                        }
                    }
                    if (t.rstrip()) {
                        while (stop < end && CharClass.isWhiteSpace(a[stop])) {
                            stop++;
                        }
                    }
                    out[0] = start;
                    out[1] = stop;
                    out[2] = t.id();
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean regionEquals(char[] a, int p, String s) {
        for (int i = 0; i < s.length(); i++) {
            if (a[p + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "AddedTokenMatcher" + Arrays.toString(byFirst.keySet().toArray());
    }
}

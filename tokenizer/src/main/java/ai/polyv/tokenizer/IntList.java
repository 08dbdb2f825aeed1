package ai.polyv.tokenizer;

import java.util.Arrays;

/** Growable int array. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void clear() {
        n = 0;
    }

    int size() {
        return n;
    }

    int capacity() {
        return a.length;
    }

    int get(int i) {
        return a[i];
    }

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, 2 * n);
        }
        a[n++] = v;
    }

    void addAll(int[] vs) {
        if (n + vs.length > a.length) {
            a = Arrays.copyOf(a, Math.max(2 * a.length, n + vs.length));
        }
        System.arraycopy(vs, 0, a, n, vs.length);
        n += vs.length;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}

package ai.polyv.core.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Window partition of the vision tokens (Qwen2.5-VL {@code get_window_index}). Per temporal slice, the
 * merged grid {@code [h/merge, w/merge]} is cut into windows of {@code units x units} merged tokens,
 * row-major over windows, row-major inside a window; windows at the right/bottom edge are partial.
 *
 * @param order        {@code [mergedTokens]}: window-order position i holds merged token order[i]
 *                     (merged tokens numbered t, row, col in merge-block order)
 * @param patchPerm    {@code [patches]}: the same permutation on patch rows (each merged token is
 *                     {@code merge*merge} consecutive patch rows)
 * @param cuWindows    cumulative patch counts of the windows in window order, from 0
 * @param cuFrames     cumulative patch counts of the temporal slices (full-attention blocks), from 0
 */
public record WindowIndex(int[] order, int[] patchPerm, int[] cuWindows, int[] cuFrames) {

    public static WindowIndex compute(int t, int gridH, int gridW, int merge, int units) {
        if (gridH % merge != 0 || gridW % merge != 0) {
            throw new IllegalArgumentException("grid " + gridH + "x" + gridW + " is not a multiple of spatial_merge_size " + merge);
        }
        int lh = gridH / merge, lw = gridW / merge, unit = merge * merge;
        int[] order = new int[t * lh * lw];
        List<Integer> cu = new ArrayList<>();
        cu.add(0);
        int n = 0;
        for (int ti = 0; ti < t; ti++) {
            for (int wy = 0; wy < lh; wy += units) {
                for (int wx = 0; wx < lw; wx += units) {
                    int start = n;
                    for (int y = wy; y < Math.min(wy + units, lh); y++) {
                        for (int x = wx; x < Math.min(wx + units, lw); x++) order[n++] = ti * lh * lw + y * lw + x;
                    }
                    cu.add(cu.getLast() + (n - start) * unit);
                }
            }
        }
        int[] perm = new int[order.length * unit];
        for (int i = 0; i < order.length; i++) {
            for (int j = 0; j < unit; j++) perm[i * unit + j] = order[i] * unit + j;
        }
        int[] frames = new int[t + 1];
        for (int ti = 1; ti <= t; ti++) frames[ti] = ti * gridH * gridW;
        return new WindowIndex(order, perm, cu.stream().mapToInt(Integer::intValue).toArray(), frames);
    }
}

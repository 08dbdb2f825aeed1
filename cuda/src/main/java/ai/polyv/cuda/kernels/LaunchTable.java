package ai.polyv.cuda.kernels;

import java.util.List;

/**
 * Launch configurations keyed by problem size (docs/style.md 8: tuned configurations are data): the first
 * row whose {@code maxSize} is at least the size applies; the last row must be unbounded.
 *
 * @param <C> the configuration record of one kernel
 */
public record LaunchTable<C>(String kernel, List<Row<C>> rows) {

    /** Sizes up to {@code maxSize} (inclusive) use {@code config}. */
    public record Row<C>(long maxSize, C config) {}

    public LaunchTable {
        rows = List.copyOf(rows);
        if (rows.isEmpty() || rows.getLast().maxSize() != Long.MAX_VALUE) {
            throw new IllegalArgumentException(kernel + ": the last launch-table row must cover every size");
        }
        for (int i = 1; i < rows.size(); i++) {
            if (rows.get(i).maxSize() <= rows.get(i - 1).maxSize()) {
                throw new IllegalArgumentException(kernel + ": launch-table sizes must increase");
            }
        }
    }

    public C pick(long size) {
        for (Row<C> r : rows) if (size <= r.maxSize()) return r.config();
        throw new AssertionError("unreachable: the last row is unbounded");
    }
}

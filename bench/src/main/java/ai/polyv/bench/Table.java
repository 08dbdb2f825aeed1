package ai.polyv.bench;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with right-aligned numeric columns, for benchmark output. */
public final class Table {
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    public Table(String... header) {
        this.header = header.clone();
    }

    public Table row(Object... cells) {
        if (cells.length != header.length) {
            throw new IllegalArgumentException("table row has " + cells.length + " cells, header has " + header.length);
        }
        String[] r = new String[cells.length];
        for (int i = 0; i < cells.length; i++) r[i] = String.valueOf(cells[i]);
        rows.add(r);
        return this;
    }

    public String render() {
        int[] w = new int[header.length];
        for (int i = 0; i < header.length; i++) w[i] = header[i].length();
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        StringBuilder sb = new StringBuilder();
        line(sb, header, w, true);
        for (int i = 0; i < header.length; i++) sb.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
        sb.append('\n');
        for (String[] r : rows) line(sb, r, w, false);
        return sb.toString();
    }

    private static void line(StringBuilder sb, String[] cells, int[] w, boolean head) {
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) sb.append("  ");
            boolean left = i < 2 || head;
            String c = cells[i];
            String pad = " ".repeat(w[i] - c.length());
            sb.append(left ? c + pad : pad + c);
        }
        int end = sb.length();
        while (end > 0 && sb.charAt(end - 1) == ' ') end--;
        sb.setLength(end);
        sb.append('\n');
    }

    /** Fixed-precision number ({@code -} for NaN). */
    public static String num(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format("%." + decimals + "f", v);
    }
}

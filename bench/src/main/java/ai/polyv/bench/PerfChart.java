package ai.polyv.bench;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.PathChecks;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * {@code polyv bench chart}: each op's or kernel's fraction of its roofline (floor over median, the
 * {@code fraction} of every {@code results[]} row of {@code bench ops --json} and {@code bench kernels --json})
 * as a horizontal bar chart, memory-bound and compute-bound bars in two colours, drawn with Java2D (headless).
 */
public final class PerfChart {
    private PerfChart() {}

    /** One bar: {@code fraction} 1 = at the measured ceiling. */
    public record Bar(String label, double fraction, Bound bound) {}

    public record Chart(String title, List<Bar> bars) {}

    /** Reads the rows of every file; the title names each file's benchmark, date and machine. */
    public static Chart read(List<Path> files) {
        if (files == null || files.isEmpty()) throw new IllegalArgumentException("--json needs at least one benchmark JSON file");
        List<Bar> bars = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (Path f : files) {
            PathChecks.regularFile("benchmark JSON", f);
            JsonNode root;
            try {
                root = BenchJson.JSON.readTree(Files.readString(f));
            } catch (IOException e) {
                throw new IllegalArgumentException(f + ": cannot read benchmark JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            JsonNode results = root.path("results");
            if (!results.isArray() || results.isEmpty()) {
                throw new IllegalArgumentException(f + ": no results[] rows (expected the JSON of `polyv bench ops` or `polyv bench kernels`)");
            }
            String bench = root.path("benchmark").asText("?");
            for (int i = 0; i < results.size(); i++) {
                JsonNode r = results.get(i);
                if (!r.path("name").isTextual() || !r.path("fraction").isNumber()) {
                    throw new IllegalArgumentException(f + ": results[" + i + "] needs a text 'name' and a numeric 'fraction'");
                }
                Bound b = "COMPUTE".equals(r.path("bound").asText()) ? Bound.COMPUTE : Bound.MEMORY;
                bars.add(new Bar((files.size() > 1 ? bench + ": " : "") + r.get("name").asText(), r.get("fraction").asDouble(), b));
            }
            titles.add(title(bench, root));
        }
        return new Chart(String.join("; ", titles), List.copyOf(bars));
    }

    /** {@code bench <name>, <date>, <machine>} from a report's {@code machine} (and {@code device} for GPU runs). */
    static String title(String bench, JsonNode root) {
        JsonNode m = root.path("machine");
        String date = m.path("startedAt").asText("");
        if (date.length() >= 10) date = date.substring(0, 10);
        String machine = root.hasNonNull("device") ? root.get("device").asText()
                : m.path("cpu").asText("?") + ", " + m.path("processors").asInt() + " processors";
        return "bench " + bench + ", " + date + ", " + machine;
    }

    /** Draws the chart as PNG bytes. */
    public static byte[] png(Chart c) {
        int barH = 18, gap = 6, top = 70, bottom = 70, right = 60, plotW = 640;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12), titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 14);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        int labelW = 0;
        for (Bar b : c.bars()) labelW = Math.max(labelW, fm.stringWidth(b.label()));
        int titleW = pg.getFontMetrics(titleFont).stringWidth(c.title());
        pg.dispose();
        int left = labelW + 20;
        int width = Math.max(left + plotW + right, titleW + 40), height = top + c.bars().size() * (barH + gap) + bottom;
        double max = 1.0;
        for (Bar b : c.bars()) if (Double.isFinite(b.fraction())) max = Math.max(max, b.fraction());
        max = Math.ceil(max * 4) / 4;                                   // axis end: a multiple of 25%
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(titleFont);
            g.drawString(c.title(), 20, 28);
            g.setFont(font);
            Color mem = new Color(0x3b75af), comp = new Color(0xef8636);
            g.setColor(mem);
            g.fillRect(20, 40, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString("memory-bound (of copy bandwidth)", 38, 51);
            g.setColor(comp);
            g.fillRect(280, 40, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString("compute-bound (of FMA / GEMM peak)", 298, 51);
            int plotBottom = top + c.bars().size() * (barH + gap);
            for (double t = 0; t <= max + 1e-9; t += 0.25) {               // grid and ticks every 25%
                int x = left + (int) Math.round(t / max * plotW);
                g.setColor(t == 1.0 ? Color.DARK_GRAY : new Color(0xdddddd));
                g.setStroke(new BasicStroke(t == 1.0 ? 1.5f : 1f));
                g.drawLine(x, top - 4, x, plotBottom);
                g.setColor(Color.BLACK);
                String s = Math.round(t * 100) + "%";
                g.drawString(s, x - fm.stringWidth(s) / 2, plotBottom + 16);
            }
            for (int i = 0; i < c.bars().size(); i++) {
                Bar b = c.bars().get(i);
                int y = top + i * (barH + gap);
                g.setColor(Color.BLACK);
                g.drawString(b.label(), left - 10 - fm.stringWidth(b.label()), y + barH - 4);
                double f = Double.isFinite(b.fraction()) ? Math.max(0, b.fraction()) : 0;
                int w = (int) Math.round(f / max * plotW);
                g.setColor(b.bound() == Bound.COMPUTE ? comp : mem);
                g.fillRect(left, y, Math.max(1, w), barH);
                g.setColor(Color.BLACK);
                g.drawString(String.format("%.0f%%", 100 * b.fraction()), left + w + 4, y + barH - 4);
            }
            g.setColor(Color.BLACK);
            g.drawLine(left, top - 4, left, plotBottom);
            g.drawLine(left, plotBottom, left + plotW, plotBottom);
            String axis = "fraction of the roofline: roofline floor / median time (ceilings measured in the same run)";
            g.drawString(axis, left + plotW / 2 - fm.stringWidth(axis) / 2, plotBottom + 40);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) throw new IllegalStateException("no PNG writer in this Java runtime");
        } catch (IOException e) {
            throw new UncheckedIOException("encoding the chart as PNG", e);
        }
        return out.toByteArray();
    }

    /** Writes the chart to {@code file} atomically (temp file in the same folder, then a rename). */
    public static void write(Chart c, Path file) {
        byte[] bytes = png(c);
        try {
            AtomicFiles.write(file, ch -> {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + file + ": " + e.getMessage(), e);
        }
    }
}

package ai.polyv.train.loop;

import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.train.checkpoint.StepRecord;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The loss curve of a run: a CSV with one line per optimizer step and a PNG line plot (Java2D) of the
 * training total loss and, where evaluated, the held-out total loss against the step, with labelled
 * axes, ticks and a legend. Both files are written atomically.
 *
 * <p>CSV columns: {@code step,lr,ce,mse_temporal,mse_spatial,aux,total,grad_norm,tokens,eval_ce,eval_total}
 * (eval columns empty on steps without an evaluation; step 0, when present, is the held-out baseline
 * before training and has empty training columns); numbers are Java's shortest round-trip decimal
 * form, so the CSV reproduces the doubles exactly.
 */
public final class LossCurve {
    /** A training value; NaN (the step-0 baseline row has no training losses) is written as an empty field. */
    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    public static final String HEADER = "step,lr,ce,mse_temporal,mse_spatial,aux,total,grad_norm,tokens,eval_ce,eval_total";
    static final int WIDTH = 900, HEIGHT = 540;

    private LossCurve() {}

    public static String csv(List<StepRecord> history) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (StepRecord r : history) {
            sb.append(r.step()).append(',').append(r.lr()).append(',').append(num(r.ce())).append(',').append(num(r.mseTemporal())).append(',')
                    .append(num(r.mseSpatial())).append(',').append(num(r.aux())).append(',').append(num(r.total())).append(',')
                    .append(num(r.gradNorm())).append(',').append(r.tokens()).append(',').append(r.evalCe() == null ? "" : r.evalCe()).append(',')
                    .append(r.evalTotal() == null ? "" : r.evalTotal()).append('\n');
        }
        return sb.toString();
    }

    public static void writeCsv(Path file, List<StepRecord> history) {
        try {
            AtomicFiles.writeString(file, csv(history));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Renders the plot. */
    public static BufferedImage plot(List<StepRecord> history, String title) {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int left = 80, right = WIDTH - 30, top = 50, bottom = HEIGHT - 60;
            double xMin = history.isEmpty() ? 0 : history.getFirst().step(), xMax = history.isEmpty() ? 1 : history.getLast().step();
            if (xMax <= xMin) xMax = xMin + 1;
            double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
            for (StepRecord r : history) {
                for (Double v : new Double[] {r.total(), r.evalTotal()}) {
                    if (v != null && Double.isFinite(v)) {
                        yMin = Math.min(yMin, v);
                        yMax = Math.max(yMax, v);
                    }
                }
            }
            if (!(yMin <= yMax)) {
                yMin = 0;
                yMax = 1;
            }
            double pad = (yMax - yMin) * 0.05;
            if (pad == 0) pad = Math.max(1e-3, Math.abs(yMax) * 0.05);
            yMin -= pad;
            yMax += pad;
            final double x0 = xMin, x1 = xMax, y0 = yMin, y1 = yMax;
            java.util.function.DoubleUnaryOperator px = x -> left + (x - x0) / (x1 - x0) * (right - left);
            java.util.function.DoubleUnaryOperator py = y -> bottom - (y - y0) / (y1 - y0) * (bottom - top);

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i <= 5; i++) { // grid and ticks
                double yv = y0 + (y1 - y0) * i / 5;
                int y = (int) Math.round(py.applyAsDouble(yv));
                g.setColor(new Color(230, 230, 230));
                g.drawLine(left, y, right, y);
                g.setColor(Color.DARK_GRAY);
                String s = String.format(Locale.ROOT, "%.4g", yv);
                g.drawString(s, left - 8 - fm.stringWidth(s), y + fm.getAscent() / 2);
                double xv = x0 + (x1 - x0) * i / 5;
                int x = (int) Math.round(px.applyAsDouble(xv));
                g.setColor(new Color(230, 230, 230));
                g.drawLine(x, top, x, bottom);
                g.setColor(Color.DARK_GRAY);
                String t = String.valueOf(Math.round(xv));
                g.drawString(t, x - fm.stringWidth(t) / 2, bottom + 18);
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, right - left, bottom - top);
            g.drawString("optimizer step", (left + right) / 2 - fm.stringWidth("optimizer step") / 2, HEIGHT - 20);
            Graphics2D rot = (Graphics2D) g.create();
            rot.rotate(-Math.PI / 2);
            rot.drawString("loss (total)", -(top + bottom) / 2 - fm.stringWidth("loss (total)") / 2, 22);
            rot.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, left, 30);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

            Path2D train = new Path2D.Double(), eval = new Path2D.Double();
            boolean tStarted = false, eStarted = false;
            for (StepRecord r : history) {
                if (Double.isFinite(r.total())) {
                    double x = px.applyAsDouble(r.step()), y = py.applyAsDouble(r.total());
                    if (tStarted) train.lineTo(x, y);
                    else train.moveTo(x, y);
                    tStarted = true;
                }
                if (r.evalTotal() != null && Double.isFinite(r.evalTotal())) {
                    double x = px.applyAsDouble(r.step()), y = py.applyAsDouble(r.evalTotal());
                    if (eStarted) eval.lineTo(x, y);
                    else eval.moveTo(x, y);
                    eStarted = true;
                    g.setColor(new Color(214, 39, 40));
                    g.fillOval((int) x - 3, (int) y - 3, 7, 7);
                }
            }
            g.setStroke(new BasicStroke(1.8f));
            g.setColor(new Color(31, 119, 180));
            g.draw(train);
            g.setColor(new Color(214, 39, 40));
            g.draw(eval);
            int lx = right - 150, ly = top + 12; // legend
            g.setColor(new Color(31, 119, 180));
            g.drawLine(lx, ly, lx + 24, ly);
            g.setColor(Color.BLACK);
            g.drawString("train", lx + 30, ly + 4);
            g.setColor(new Color(214, 39, 40));
            g.drawLine(lx, ly + 18, lx + 24, ly + 18);
            g.fillOval(lx + 9, ly + 15, 7, 7);
            g.setColor(Color.BLACK);
            g.drawString("eval (held out)", lx + 30, ly + 22);
        } finally {
            g.dispose();
        }
        return img;
    }

    public static void writePng(Path file, List<StepRecord> history, String title) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(plot(history, title), "png", out)) throw new IOException("no PNG writer in this JDK");
            byte[] bytes = out.toByteArray();
            AtomicFiles.write(file, ch -> {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}

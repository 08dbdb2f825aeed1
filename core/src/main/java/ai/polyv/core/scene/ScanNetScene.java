package ai.polyv.core.scene;

import ai.polyv.loader.util.PathChecks;
import ai.polyv.core.preprocess.BicubicResampler;
import ai.polyv.core.preprocess.ImageFiles;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.preprocess.SmartResize;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Loads a scene in the ScanNet export layout:
 * <pre>
 *   color/N.jpg                     colour frame N
 *   depth/N.png                     uint16 depth in millimetres (0 = invalid)
 *   intrinsic/intrinsic_depth.txt   depth camera intrinsics, 4x4 (or 3x3), whitespace separated
 *   pose/N.txt                      camera-to-world 4x4
 * </pre>
 * Rules: frame ids are the numeric names of {@code depth/*.png}. Frames whose pose holds a
 * non-finite value (ScanNet marks failed tracking with {@code -inf}) are skipped. {@code views}
 * frames (even, at least 2) are chosen evenly over the remaining ids in order: index
 * {@code round(k * (n - 1) / (views - 1))}. Depth maps are resized to the {@link SmartResize} size of
 * the depth resolution (e.g. 480x640 -> 476x644) with nearest-neighbour sampling (depth values are
 * never blended) and the intrinsics scaled to match ({@code f' = f*s}, {@code c' = (c + 0.5)*s - 0.5});
 * colour frames are resized with bicubic straight to that size (ScanNet's colour and depth cameras
 * are registered; the small field-of-view difference is ignored).
 */
public final class ScanNetScene {

    private ScanNetScene() {}

    public static MultiViewScene load(Path dir, int views, int minPixels, int maxPixels) {
        if (views < 2 || views % 2 != 0) throw new IllegalArgumentException("scene views must be even and at least 2, got " + views);
        PathChecks.directory("scene directory", dir);
        Path depthDir = dir.resolve("depth");
        Path kFile = dir.resolve("intrinsic").resolve("intrinsic_depth.txt");
        double[] k = readIntrinsics(kFile);
        List<Integer> ids = frameIds(depthDir);
        List<Integer> usable = new ArrayList<>();
        List<double[]> posesAll = new ArrayList<>();
        for (int id : ids) {
            double[] pose = readMatrix(dir.resolve("pose").resolve(id + ".txt"), 4, 4);
            boolean finite = true;
            for (double x : pose) finite &= Double.isFinite(x);
            if (finite) {
                usable.add(id);
                posesAll.add(pose);
            }
        }
        if (usable.size() < views) {
            throw new IllegalArgumentException("scene " + dir + " has " + usable.size() + " frames with a valid pose, " + views + " views requested");
        }
        int[] chosen = new int[views];
        for (int i = 0; i < views; i++) chosen[i] = (int) Math.round((double) i * (usable.size() - 1) / (views - 1));

        int srcH = -1, srcW = -1, h = -1, w = -1;
        float[] depth = null;
        double[][] kOut = new double[views][];
        double[][] poses = new double[views][];
        List<RgbFrames> colour = new ArrayList<>();
        for (int v = 0; v < views; v++) {
            int id = usable.get(chosen[v]);
            Path dFile = depthDir.resolve(id + ".png");
            Raster r = readDepthRaster(dFile);
            if (srcH < 0) {
                srcH = r.getHeight();
                srcW = r.getWidth();
                SmartResize.Size s = SmartResize.compute(srcH, srcW, SmartResize.FACTOR, minPixels, maxPixels);
                h = s.height();
                w = s.width();
                depth = new float[views * h * w];
            } else if (r.getHeight() != srcH || r.getWidth() != srcW) {
                throw new IllegalArgumentException("depth map " + dFile + " is " + r.getHeight() + "x" + r.getWidth() + ", expected " + srcH + "x" + srcW);
            }
            // nearest neighbour, pixel centres aligned
            for (int y = 0; y < h; y++) {
                int sy = Math.min(srcH - 1, (int) Math.floor((y + 0.5) * srcH / h));
                for (int x = 0; x < w; x++) {
                    int sx = Math.min(srcW - 1, (int) Math.floor((x + 0.5) * srcW / w));
                    depth[(v * h + y) * w + x] = r.getSample(sx, sy, 0) / 1000.0f;
                }
            }
            double scaleX = (double) w / srcW;
            double scaleY = (double) h / srcH;
            kOut[v] = new double[] {
                    k[0] * scaleX, k[1] * scaleX, (k[2] + 0.5) * scaleX - 0.5,
                    k[3] * scaleY, k[4] * scaleY, (k[5] + 0.5) * scaleY - 0.5,
                    k[6], k[7], k[8]};
            poses[v] = posesAll.get(chosen[v]);
            Path cFile = dir.resolve("color").resolve(id + ".jpg");
            PathChecks.regularFile("scene colour frame", cFile);
            RgbFrames c = ImageFiles.read(cFile);
            colour.add(BicubicResampler.resize(c, h, w));
        }
        return new MultiViewScene(RgbFrames.stack(colour), depth, kOut, poses);
    }

    static List<Integer> frameIds(Path depthDir) {
        PathChecks.directory("scene depth directory", depthDir);
        List<Integer> ids = new ArrayList<>();
        try (Stream<Path> s = Files.list(depthDir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.matches("\\d+\\.png")) ids.add(Integer.parseInt(n.substring(0, n.length() - 4)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + depthDir, e);
        }
        if (ids.isEmpty()) throw new IllegalArgumentException("scene depth directory " + depthDir + " holds no N.png depth maps");
        ids.sort(Integer::compare);
        return ids;
    }

    static Raster readDepthRaster(Path file) {
        PathChecks.regularFile("depth map", file);
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decode depth map " + file + ": " + e.getMessage(), e);
        }
        if (img == null) throw new IllegalArgumentException("cannot decode depth map " + file + ": not a PNG file");
        Raster r = img.getRaster();
        if (r.getNumBands() != 1 || r.getSampleModel().getSampleSize(0) != 16) {
            throw new IllegalArgumentException("depth map " + file + " must be a 16-bit single-channel PNG (millimetres), got "
                    + r.getNumBands() + " band(s) of " + r.getSampleModel().getSampleSize(0) + " bits");
        }
        return r;
    }

    /** Intrinsics: a 4x4 (ScanNet) or 3x3 matrix; the top-left 3x3 is K. */
    static double[] readIntrinsics(Path file) {
        List<Row> rows = readRows(file);
        int n = rows.size();
        if (n != 3 && n != 4) throw new IllegalArgumentException(file + ": expected a 3x3 or 4x4 matrix, got " + n + " rows");
        double[] k = new double[9];
        for (int i = 0; i < 3; i++) {
            Row r = rows.get(i);
            if (r.values().length != n) throw new IllegalArgumentException(file + " line " + r.line() + ": expected " + n + " numbers, got " + r.values().length);
            System.arraycopy(r.values(), 0, k, i * 3, 3);
        }
        if (!(k[0] > 0) || !(k[4] > 0) || k[6] != 0 || k[7] != 0 || k[8] != 1) {
            throw new IllegalArgumentException(file + ": not a camera intrinsics matrix (need fx, fy > 0 and last row 0 0 1), got "
                    + java.util.Arrays.toString(k));
        }
        return k;
    }

    /** A rows x cols matrix, row-major; errors name the file and 1-based line. */
    static double[] readMatrix(Path file, int rowsWanted, int cols) {
        List<Row> rows = readRows(file);
        if (rows.size() != rowsWanted) throw new IllegalArgumentException(file + ": expected " + rowsWanted + " rows of numbers, got " + rows.size());
        double[] m = new double[rowsWanted * cols];
        for (int i = 0; i < rowsWanted; i++) {
            Row r = rows.get(i);
            if (r.values().length != cols) throw new IllegalArgumentException(file + " line " + r.line() + ": expected " + cols + " numbers, got " + r.values().length);
            System.arraycopy(r.values(), 0, m, i * cols, cols);
        }
        return m;
    }

    /** One non-empty line of numbers and its 1-based line number. */
    private record Row(int line, double[] values) {}

    private static double parseNumber(Path file, int line, String text) {
        switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "inf", "+inf", "infinity" -> { return Double.POSITIVE_INFINITY; }
            case "-inf", "-infinity" -> { return Double.NEGATIVE_INFINITY; }
            case "nan", "-nan" -> { return Double.NaN; }
            default -> {
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(file + " line " + line + ": '" + text + "' is not a number");
                }
            }
        }
    }

    private static List<Row> readRows(Path file) {
        PathChecks.regularFile("matrix file", file);
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<Row> rows = new ArrayList<>();
        for (int li = 0; li < lines.size(); li++) {
            String line = lines.get(li).strip();
            if (line.isEmpty()) continue;
            String[] parts = line.split("\\s+");
            double[] row = new double[parts.length];
            for (int j = 0; j < parts.length; j++) row[j] = parseNumber(file, li + 1, parts[j]);
            rows.add(new Row(li + 1, row));
        }
        return rows;
    }
}

package ai.polyv.core.preprocess;

import ai.polyv.loader.util.PathChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A video given as a directory of frame images.
 *
 * <p>Rule: the directory's {@code .png}, {@code .jpg} and {@code .jpeg} files are the frames, in
 * order of their names (numeric names such as {@code 2.jpg} before {@code 10.jpg}: names are compared
 * by their digit runs as numbers, then as text). The frames were taken at {@code sourceFps} frames per
 * second (when unknown, pass the target {@code fps}: every frame is then used). The video is
 * resampled to {@code fps}: output frame k is source frame {@code floor(k * sourceFps / fps)}, for
 * every k whose source index is inside the directory. {@code fps} may not exceed {@code sourceFps}.
 * All frames are resized to the first frame's size if they differ. One temporal grid step holds
 * two frames, so a grid step covers {@code 2 / fps} seconds.
 *
 * @param frames         the sampled frames
 * @param fps            the frame rate they represent
 * @param files          which files were used, in order
 */
public record VideoFrames(RgbFrames frames, double fps, List<Path> files) {

    /** Seconds per temporal grid step, {@code temporal_patch_size / fps}. */
    public double secondsPerGrid() {
        return VisionPreprocessor.TEMPORAL_PATCH / fps;
    }

    public static VideoFrames readDirectory(Path dir, double fps, double sourceFps) {
        PathChecks.directory("video directory", dir);
        if (!(fps > 0) || !(sourceFps > 0)) throw new IllegalArgumentException("fps must be positive, got fps " + fps + ", source fps " + sourceFps);
        if (fps > sourceFps + 1e-9) {
            throw new IllegalArgumentException("--fps " + fps + " exceeds the source frame rate " + sourceFps + " of " + dir);
        }
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p) && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
            }).sorted((a, b) -> naturalCompare(a.getFileName().toString(), b.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list video directory " + dir, e);
        }
        if (all.isEmpty()) throw new IllegalArgumentException("video directory " + dir + " holds no .png/.jpg frames");
        List<Path> chosen = new ArrayList<>();
        for (int k = 0; ; k++) {
            long idx = (long) Math.floor(k * sourceFps / fps + 1e-9);
            if (idx >= all.size()) break;
            chosen.add(all.get((int) idx));
        }
        List<RgbFrames> frames = new ArrayList<>();
        RgbFrames first = null;
        for (Path p : chosen) {
            RgbFrames f = ImageFiles.read(p);
            if (first == null) first = f;
            else if (f.height() != first.height() || f.width() != first.width()) f = BicubicResampler.resize(f, first.height(), first.width());
            frames.add(f);
        }
        return new VideoFrames(RgbFrames.stack(frames), fps, List.copyOf(chosen));
    }

    /** Compares names by digit runs as numbers, the rest as text. */
    static int naturalCompare(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) i++;
                while (j < b.length() && Character.isDigit(b.charAt(j))) j++;
                String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
                String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                int c = na.length() != nb.length() ? Integer.compare(na.length(), nb.length()) : na.compareTo(nb);
                if (c != 0) return c;
            } else {
                if (ca != cb) return Character.compare(ca, cb);
                i++;
                j++;
            }
        }
        int c = Integer.compare(a.length() - i, b.length() - j);
        return c != 0 ? c : a.compareTo(b);
    }
}

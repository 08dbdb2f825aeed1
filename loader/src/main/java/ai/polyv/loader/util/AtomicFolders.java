package ai.polyv.loader.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Publishing a folder so that a reader sees either the old folder or the complete new one (the folder
 * counterpart of {@link AtomicFiles}): the content is written into a hidden temp folder beside the
 * target ({@link #tempBeside}), then {@link #publish} renames it into place. An existing target is
 * first renamed aside and deleted only once the new folder is in place; if the final rename fails,
 * the old folder is put back. Used by the demo checkpoint, training checkpoints, the fine-tuned model
 * export and upcycling.
 */
public final class AtomicFolders {
    private AtomicFolders() {}

    /** A new empty hidden folder beside {@code target} ({@code .<name>.<tag>-<random>}), for its next content. */
    public static Path tempBeside(Path target, String tag) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        return Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + "." + tag + "-");
    }

    /**
     * Renames the finished folder {@code tmp} (beside {@code target}) to {@code target}, replacing what
     * is there: the old content is set aside, the new one renamed in, the parent folder fsynced, the old
     * content deleted. On failure the old content is back at {@code target} and {@code tmp} is left for
     * the caller to delete.
     */
    public static void publish(Path tmp, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path aside = null;
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            aside = tempBeside(abs, "old");
            Files.delete(aside);   // only its unique name is wanted
            move(abs, aside);
        }
        try {
            move(tmp, abs);
        } catch (IOException | RuntimeException e) {
            if (aside != null) move(aside, abs);   // put the previous folder back
            throw e;
        }
        fsync(abs.getParent());
        if (aside != null) deleteQuietly(aside);
    }

    /** An atomic rename where the file system has one, else a plain rename. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Forces a folder's entries (a rename into it) to disk, where the file system can. */
    public static void fsync(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // some file systems cannot fsync a directory; the rename itself is atomic
        }
    }

    /** Deletes {@code root} and everything under it (a symbolic link is deleted, never followed); nothing there is fine. */
    public static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }

    /** {@link #deleteTree}, best effort: a leftover hidden temp folder is never read. */
    public static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (UncheckedIOException ignored) {
            // best effort
        }
    }
}

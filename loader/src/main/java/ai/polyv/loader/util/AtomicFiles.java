package ai.polyv.loader.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writing files so that a reader sees either the old file or the complete new one: data goes to a temp file
 * in the same folder, is fsynced, then renamed over the target atomically (and the folder fsynced).
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Something that writes a file's whole content into an open channel. */
    @FunctionalInterface
    public interface ContentWriter {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes {@code content} (UTF-8) to {@code target} atomically. */
    public static void writeString(Path target, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /**
     * Creates a temp file beside {@code target}, lets {@code writer} fill it, forces it to disk and renames it
     * to {@code target}. On any failure the temp file is deleted and {@code target} is untouched; a target that
     * exists but is not a regular file (a folder, a device) is refused before anything is written.
     */
    public static void write(Path target, ContentWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.exists(abs) && !Files.isRegularFile(abs)) {   // a rename would replace a folder or a device (/dev/null) with a file
            throw new IOException(target + " " + PathChecks.notARegularFile(abs) + ": not replacing it with a file");
        }
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.write(ch);
                ch.force(true);
            }
            publishPermissions(tmp, abs);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            fsyncDir(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** The POSIX permissions a new file gets: {@code rw-r--r--} (temp files are created owner-only). */
    public static final Set<PosixFilePermission> NEW_FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-r--r--");

    /**
     * Gives the temp file the permissions of the file it replaces, or {@link #NEW_FILE_PERMISSIONS} for a new
     * one, so that an atomic write does not leave an owner-only file behind. No-op on non-POSIX file systems.
     */
    private static void publishPermissions(Path tmp, Path target) throws IOException {
        try {
            Set<PosixFilePermission> perms = Files.exists(target) ? Files.getPosixFilePermissions(target) : NEW_FILE_PERMISSIONS;
            Files.setPosixFilePermissions(tmp, perms);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the temp file keeps the platform's defaults
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // some file systems cannot fsync a directory; the rename itself is still atomic
        }
    }
}

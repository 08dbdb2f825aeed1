package ai.polyv.loader.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Checks of a path before it is read, with a message that says what is wrong with it: it does not exist,
 * it is a link to nothing, or it exists but is not the kind of thing asked for ({@code /dev/null} or a folder
 * given as an image file). Links are followed, as the readers follow them.
 */
public final class PathChecks {
    private PathChecks() {}

    /** {@code path} if it is a regular file; otherwise IllegalArgumentException "{@code what} PATH does not exist", "... is not a regular file", ... */
    public static Path regularFile(String what, Path path) {
        String problem = notARegularFile(path);
        if (problem != null) throw new IllegalArgumentException(what + " " + path + " " + problem);
        return path;
    }

    /** {@code path} if it is a directory; otherwise IllegalArgumentException "{@code what} PATH does not exist", "... is not a directory", ... */
    public static Path directory(String what, Path path) {
        String problem = notADirectory(path);
        if (problem != null) throw new IllegalArgumentException(what + " " + path + " " + problem);
        return path;
    }

    /**
     * {@code path} if it is a directory or nothing is there yet (an output folder, created later); otherwise
     * IllegalArgumentException "{@code what} PATH is not a directory (it is a file)", "... is a link to ...".
     */
    public static Path directoryOrAbsent(String what, Path path) {
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? directory(what, path) : path;
    }

    /** What keeps {@code path} from being read as a regular file ("does not exist", "is not a regular file (it is a directory)", ...), or null. */
    public static String notARegularFile(Path path) {
        if (Files.isRegularFile(path)) return null;
        if (Files.isDirectory(path)) return "is not a regular file (it is a directory)";
        return Files.exists(path) ? "is not a regular file" : missing(path);
    }

    /** What keeps {@code path} from being listed as a directory ("does not exist", "is not a directory (it is a file)", ...), or null. */
    public static String notADirectory(Path path) {
        if (Files.isDirectory(path)) return null;
        if (Files.isRegularFile(path)) return "is not a directory (it is a file)";
        return Files.exists(path) ? "is not a directory" : missing(path);
    }

    /** Why a path that {@link Files#exists} denies is missing: nothing there, or a link to nothing. */
    private static String missing(Path path) {
        if (Files.isSymbolicLink(path)) {
            try {
                return "is a link to " + Files.readSymbolicLink(path) + ", which does not exist";
            } catch (IOException | UnsupportedOperationException e) {
                return "is a link that leads nowhere";
            }
        }
        return "does not exist";
    }
}

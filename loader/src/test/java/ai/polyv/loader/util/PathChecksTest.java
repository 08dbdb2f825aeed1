package ai.polyv.loader.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathChecksTest {
    @TempDir
    Path dir;

    @Test
    void eachKindOfWrongPathIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("a.txt"), "x");
        Path folder = Files.createDirectory(dir.resolve("sub"));
        Path absent = dir.resolve("absent.png");
        Path dangling = Files.createSymbolicLink(dir.resolve("link.png"), absent);
        Path device = Path.of("/dev/null");

        assertNull(PathChecks.notARegularFile(file));
        assertEquals("is not a regular file (it is a directory)", PathChecks.notARegularFile(folder));
        assertEquals("is not a regular file", PathChecks.notARegularFile(device));
        assertEquals("does not exist", PathChecks.notARegularFile(absent));
        assertEquals("is a link to " + absent + ", which does not exist", PathChecks.notARegularFile(dangling));

        assertNull(PathChecks.notADirectory(folder));
        assertEquals("is not a directory (it is a file)", PathChecks.notADirectory(file));
        assertEquals("is not a directory", PathChecks.notADirectory(device));
        assertEquals("does not exist", PathChecks.notADirectory(absent));
    }

    @Test
    void theExceptionSaysWhatThePathWasFor() {
        assertEquals(Path.of("/dev/null").getParent(), PathChecks.directory("device folder", Path.of("/dev/null").getParent()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathChecks.regularFile("image file", Path.of("/dev/null")));
        assertEquals("image file /dev/null is not a regular file", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PathChecks.directory("video directory", dir.resolve("nope")));
        assertEquals("video directory " + dir.resolve("nope") + " does not exist", e.getMessage());
    }

    @Test
    void anOutputFolderMayBeAbsentOrAFolderButNothingElse() throws IOException {
        assertEquals(dir.resolve("new"), PathChecks.directoryOrAbsent("--out", dir.resolve("new")));
        assertEquals(dir, PathChecks.directoryOrAbsent("--out", dir));
        Path file = Files.writeString(dir.resolve("a.txt"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathChecks.directoryOrAbsent("--out", file));
        assertEquals("--out " + file + " is not a directory (it is a file)", e.getMessage());
        Path dangling = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("gone"));
        e = assertThrows(IllegalArgumentException.class, () -> PathChecks.directoryOrAbsent("--out", dangling));
        assertEquals("--out " + dangling + " is a link to " + dir.resolve("gone") + ", which does not exist", e.getMessage());
    }
}

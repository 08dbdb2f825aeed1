package ai.polyv.loader.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void newFilesAreWorldReadableAndReplacedFilesKeepTheirPermissions() throws IOException {
        Path f = dir.resolve("a.txt");
        AtomicFiles.writeString(f, "one");
        assertEquals("one", Files.readString(f));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw----"));
        AtomicFiles.writeString(f, "two");
        assertEquals("two", Files.readString(f));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void aTargetThatIsNoRegularFileIsNotReplaced() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("out.json"));   // empty: a rename would replace it
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(folder, "{}"));
        assertEquals(folder + " is not a regular file (it is a directory): not replacing it with a file", e.getMessage());
        assertTrue(Files.isDirectory(folder));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left");
        }
    }

    @Test
    void aFailedWriteLeavesTheTargetAndNoTempFile() throws IOException {
        Path f = dir.resolve("b.txt");
        AtomicFiles.writeString(f, "kept");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            throw new IOException("disk full");
        }));
        assertEquals("kept", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }
}

package ai.polyv.loader.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFoldersTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void publishCreatesThenReplacesAndLeavesNothingBehind() throws IOException {
        Path target = dir.resolve("model");
        Path tmp = AtomicFolders.tempBeside(target, "tmp");
        Files.writeString(tmp.resolve("a.txt"), "one");
        AtomicFolders.publish(tmp, target);
        assertEquals("one", Files.readString(target.resolve("a.txt")));

        Path next = AtomicFolders.tempBeside(target, "tmp");
        Files.writeString(next.resolve("b.txt"), "two");
        AtomicFolders.publish(next, target);
        assertEquals("two", Files.readString(target.resolve("b.txt")));
        assertFalse(Files.exists(target.resolve("a.txt")), "the old content is gone");
        assertEquals(List.of("model"), names(), "no temp or set-aside folder is left");
    }

    @Test
    void aFailedPublishPutsTheOldFolderBack() throws IOException {
        Path target = dir.resolve("model");
        Files.createDirectories(target);
        Files.writeString(target.resolve("a.txt"), "old");
        Path missing = dir.resolve(".model.tmp-gone");   // the rename of a folder that is not there fails
        assertThrows(IOException.class, () -> AtomicFolders.publish(missing, target));
        assertEquals("old", Files.readString(target.resolve("a.txt")));
        assertEquals(List.of("model"), names());
    }

    @Test
    void deleteTreeRemovesEverythingAndAcceptsNothing() throws IOException {
        Path root = dir.resolve("x");
        Files.createDirectories(root.resolve("y/z"));
        Files.writeString(root.resolve("y/z/f"), "f");
        AtomicFolders.deleteTree(root);
        assertFalse(Files.exists(root));
        AtomicFolders.deleteTree(root);   // nothing there: fine
        assertTrue(names().isEmpty());
    }
}

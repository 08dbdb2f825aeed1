package ai.polyv.loader;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shared golden data lives (surefire passes -Dpolyv.shared). */
public final class TestPaths {
    private TestPaths() {
    }

    public static Path shared() {
        String p = System.getProperty("polyv.shared", "../shared");
        Path path = Path.of(p).toAbsolutePath().normalize();
        if (!Files.isDirectory(path.resolve("golden"))) {
            throw new IllegalStateException("golden data not found under " + path + " (set -Dpolyv.shared)");
        }
        return path;
    }

    public static Path golden(String model) {
        return shared().resolve("golden").resolve(model);
    }
}

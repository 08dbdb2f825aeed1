package ai.polyv.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared golden data lives: the {@code polyv.shared} system property (the parent pom passes
 * {@code ${maven.multiModuleProjectDirectory}/../shared} to every surefire run); without it (a test started
 * from an IDE), the first of {@code ../shared} and {@code ../../shared} that holds {@code golden/}.
 */
public final class SharedData {
    private SharedData() {}

    /** The shared folder, absolute; fails naming the folder it tried when {@code golden/} is not there. */
    public static Path shared() {
        String p = System.getProperty("polyv.shared");
        Path path;
        if (p != null) {
            path = Path.of(p);
        } else {
            path = Path.of("../shared");
            if (!Files.isDirectory(path.resolve("golden")) && Files.isDirectory(Path.of("../../shared/golden"))) {
                path = Path.of("../../shared");
            }
        }
        path = path.toAbsolutePath().normalize();
        if (!Files.isDirectory(path.resolve("golden"))) {
            throw new IllegalStateException("golden data not found under " + path + " (set -Dpolyv.shared)");
        }
        return path;
    }

    /** {@code <shared>/golden/<model>}, e.g. {@code golden("tiny-a")}. */
    public static Path golden(String model) {
        return shared().resolve("golden").resolve(model);
    }

    /** {@code <shared>/tokenizer/qwen}: the real Qwen tokenizer ({@code tokenizer.json}). */
    public static Path qwenTokenizer() {
        return shared().resolve("tokenizer").resolve("qwen");
    }
}

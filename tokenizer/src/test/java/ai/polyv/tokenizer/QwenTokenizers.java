package ai.polyv.tokenizer;

import ai.polyv.testsupport.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real Qwen tokenizer from the shared data folder, loaded once per test JVM. */
final class QwenTokenizers {
    static final Path DIR = SharedData.qwenTokenizer();
    private static Tokenizer qwen;

    private QwenTokenizers() {}

    static synchronized Tokenizer qwen() {
        if (qwen == null) {
            Path p = DIR.resolve("tokenizer.json");
            if (!Files.exists(p)) {
                throw new IllegalStateException("missing " + p.toAbsolutePath() + " (set -Dpolyv.shared)");
            }
            qwen = Tokenizer.load(p);
        }
        return qwen;
    }
}

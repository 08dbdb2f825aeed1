package ai.polyv.core.demo;

import java.nio.file.Path;

/**
 * The demo checkpoint for tests, prepared once per test JVM in {@code target/test-demo-v<VERSION>}
 * (reused across runs while valid, like the CLI's cache).
 */
public final class DemoFixture {

    private static DemoCheckpoint.Prepared prepared;

    private DemoFixture() {}

    public static synchronized Path checkpoint() {
        if (prepared == null) prepared = DemoCheckpoint.prepare(Path.of("target", "test-demo-v" + DemoWeights.VERSION), null);
        return prepared.dir();
    }
}

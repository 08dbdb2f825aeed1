package ai.polyv.testsupport;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The class path a test hands to a child JVM it starts. {@code java.class.path} alone is not enough: the
 * JUnit console launcher (scripts/gpu-check.sh on the GPU machine) loads the test classes through its own
 * class loader, so they are only in that loader's URLs.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java.class.path} followed by the URLs of the context class loader chain, without repeats. */
    public static String classPath() {
        Set<String> entries = new LinkedHashSet<>(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        for (ClassLoader l = Thread.currentThread().getContextClassLoader(); l != null; l = l.getParent()) {
            if (!(l instanceof URLClassLoader u)) continue;
            for (URL url : u.getURLs()) {
                try {
                    if (url.getProtocol().equals("file")) entries.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException ignored) {
                    // not a file path: a child JVM could not use it either
                }
            }
        }
        entries.remove("");
        return String.join(File.pathSeparator, entries);
    }

    /** The {@code java} of this JVM. */
    public static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * The command line of a child JVM running {@code mainClass} with {@code args}: this JVM's {@code java},
     * native access enabled, the JVM {@code options}, and {@link #classPath()}.
     */
    public static List<String> command(List<String> options, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", classPath(), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }
}

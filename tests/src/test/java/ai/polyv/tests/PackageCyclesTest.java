package ai.polyv.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No package cycles in the main sources of any module: a package uses another (an import or a
 * qualified name of one of its types, comments left out) only if that one does not use it back,
 * directly or through others. Maven already forbids cycles between modules; this keeps the packages
 * inside a module layered too (e.g. {@code cuda.driver <- cuda.kernels <- cuda}).
 */
class PackageCyclesTest {

    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern TYPE_USE = Pattern.compile("\\b(ai\\.polyv(?:\\.[a-z_]\\w*)+)\\.[A-Z]");

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("polyv"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("repository root (with ./polyv) not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    /** package -> the packages its main sources use, over every module of the repository. */
    static Map<String, Set<String>> packageGraph(Path root) throws IOException {
        Map<String, String> sources = new HashMap<>();   // file -> text without comments
        Map<String, String> packageOf = new HashMap<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path m : modules.filter(d -> Files.isDirectory(d.resolve("src/main/java"))).toList()) {
                try (Stream<Path> files = Files.walk(m.resolve("src/main/java"))) {
                    for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                        String s = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                        Matcher pm = PACKAGE.matcher(s);
                        if (!pm.find()) continue;
                        sources.put(f.toString(), s);
                        packageOf.put(f.toString(), pm.group(1));
                    }
                }
            }
        }
        Set<String> packages = new TreeSet<>(packageOf.values());
        Map<String, Set<String>> uses = new TreeMap<>();
        for (String p : packages) uses.put(p, new TreeSet<>());
        sources.forEach((f, s) -> {
            String own = packageOf.get(f);
            Matcher m = TYPE_USE.matcher(s);
            while (m.find()) {
                String q = m.group(1);
                if (!q.equals(own) && packages.contains(q)) uses.get(own).add(q);
            }
        });
        return uses;
    }

    /** The strongly connected components with more than one package (Tarjan). */
    static List<Set<String>> cycles(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : g.keySet()) if (!index.containsKey(v)) connect(v, g, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> g, Map<String, Integer> index, Map<String, Integer> low,
                                Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, g, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> comp = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                comp.add(w);
            } while (!w.equals(v));
            if (comp.size() > 1) out.add(comp);
        }
    }

    @Test
    void noPackageCycles() throws IOException {
        Map<String, Set<String>> g = packageGraph(repoRoot());
        assertTrue(g.size() > 30, "the scan found the packages: " + g.keySet());
        List<Set<String>> found = cycles(g);
        StringBuilder why = new StringBuilder();
        for (Set<String> c : found) {
            why.append("\ncycle ").append(c).append(':');
            for (String p : c) {
                Set<String> inCycle = new TreeSet<>(g.get(p));
                inCycle.retainAll(c);
                why.append("\n  ").append(p).append(" uses ").append(inCycle);
            }
        }
        assertEquals(List.of(), found, why.toString());
    }

    @Test
    void theCheckFindsACycle() {
        Map<String, Set<String>> g = new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a")));
        assertEquals(List.of(Set.of("a", "b", "c")), cycles(g));
    }

    @Test
    void coreNeverUsesTheGpuOrTrainingModules() throws IOException {
        Map<String, Set<String>> g = packageGraph(repoRoot());
        for (var e : g.entrySet()) {
            if (!e.getKey().startsWith("ai.polyv.core")) continue;
            for (String used : e.getValue()) {
                assertTrue(used.startsWith("ai.polyv.core") || used.startsWith("ai.polyv.loader") || used.startsWith("ai.polyv.tokenizer"),
                        e.getKey() + " uses " + used);
            }
        }
    }
}

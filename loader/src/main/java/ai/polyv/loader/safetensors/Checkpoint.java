package ai.polyv.loader.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A checkpoint: one safetensors file, or a folder holding either a sharded checkpoint
 * ({@value #INDEX_NAME}, whose {@code weight_map} names each tensor's shard) or one weights file
 * ({@value #SINGLE_NAME}, else the folder's only {@code *.safetensors} file). Every shard is validated on
 * open and mapped once; tensors are zero-copy views. Closing closes every shard.
 *
 * <p>Index checks: the index is an object with an object {@code weight_map} of string file names (plain
 * names inside the folder); every named shard exists and is a valid safetensors file; every tensor the index
 * names is in its shard; every tensor of a shard is in the index and mapped to that shard.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX_NAME = "model.safetensors.index.json";
    public static final String SINGLE_NAME = "model.safetensors";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> owner;   // tensor name -> its file, sorted by name
    private final Map<String, String> metadata;

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> owner,
                       Map<String, String> metadata) {
        this.dir = dir;
        this.files = List.copyOf(files);
        this.owner = Collections.unmodifiableMap(owner);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens a safetensors file or a checkpoint folder.
     *
     * @throws SafetensorsException naming the file or index and the problem
     */
    public static Checkpoint open(Path fileOrDir) {
        if (Files.isRegularFile(fileOrDir)) {
            if (fileOrDir.getFileName().toString().endsWith(".json")) {
                return openIndex(fileOrDir);
            }
            return single(fileOrDir);
        }
        if (!Files.isDirectory(fileOrDir)) {
            throw new SafetensorsException(fileOrDir + (Files.exists(fileOrDir) ? " is neither a regular file nor a folder" : ": no such file or folder"));
        }
        Path index = fileOrDir.resolve(INDEX_NAME);
        if (Files.isRegularFile(index)) {
            return openIndex(index);
        }
        Path single = fileOrDir.resolve(SINGLE_NAME);
        if (Files.isRegularFile(single)) {
            return single(single);
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(fileOrDir)) {
            candidates = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new SafetensorsException(fileOrDir + ": cannot list folder: " + e, e);
        }
        if (candidates.size() == 1) {
            return single(candidates.getFirst());
        }
        throw new SafetensorsException(String.format(Locale.ROOT,
                "%s: expected %s, %s or exactly one *.safetensors file, found %s", fileOrDir, INDEX_NAME,
                SINGLE_NAME, candidates.isEmpty() ? "none" : candidates.stream().map(p -> p.getFileName().toString()).toList()));
    }

    private static Checkpoint single(Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> owner = new TreeMap<>();
        for (String n : f.names()) {
            owner.put(n, f);
        }
        Path dir = file.toAbsolutePath().getParent();
        return new Checkpoint(dir, List.of(f), owner, f.metadata());
    }

    private static Checkpoint openIndex(Path index) {
        String source = index.toString();
        JsonNode root;
        try {
            root = SafetensorsHeader.JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            throw new SafetensorsException(source + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new SafetensorsException(source + ": cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(source + ": expected a JSON object");
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new SafetensorsException(source + ": field \"weight_map\": expected an object of tensor name -> file, found "
                    + (wm == null ? "nothing (missing)" : wm.getNodeType()));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = root.get("metadata");
        if (md != null && md.isObject()) {
            for (Map.Entry<String, JsonNode> m : md.properties()) {
                metadata.put(m.getKey(), m.getValue().isTextual() ? m.getValue().textValue() : m.getValue().toString());
            }
        }
        Map<String, String> shardOf = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : wm.properties()) {
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: weight_map[\"%s\"]: expected a file name string, found %s", source, e.getKey(), v.getNodeType()));
            }
            String shard = v.textValue();
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".") || shard.equals("..")) {
                throw new SafetensorsException(String.format(Locale.ROOT,
                        "%s: weight_map[\"%s\"]: expected a plain file name in the checkpoint folder, found \"%s\"",
                        source, e.getKey(), shard));
            }
            shardOf.put(e.getKey(), shard);
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        boolean ok = false;
        try {
            for (String shard : new java.util.TreeSet<>(shardOf.values())) {
                Path p = dir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    long count = shardOf.values().stream().filter(shard::equals).count();
                    throw new SafetensorsException(String.format(Locale.ROOT,
                            "%s: shard \"%s\" (holding %d tensors, e.g. \"%s\") is missing from %s", source, shard, count,
                            shardOf.entrySet().stream().filter(x -> x.getValue().equals(shard)).findFirst().orElseThrow().getKey(),
                            dir));
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                shards.put(shard, f);
            }
            Map<String, SafetensorsFile> owner = new TreeMap<>();
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.has(e.getKey())) {
                    throw new SafetensorsException(String.format(Locale.ROOT,
                            "%s: tensor \"%s\" is mapped to shard \"%s\", which does not contain it", source,
                            e.getKey(), e.getValue()));
                }
                owner.put(e.getKey(), f);
            }
            for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
                for (String n : s.getValue().names()) {
                    if (!s.getKey().equals(shardOf.get(n))) {
                        throw new SafetensorsException(String.format(Locale.ROOT,
                                "%s: shard \"%s\" holds tensor \"%s\", which the index %s", source, s.getKey(), n,
                                shardOf.containsKey(n) ? "maps to shard \"" + shardOf.get(n) + "\"" : "does not list"));
                    }
                }
            }
            Checkpoint c = new Checkpoint(dir, opened, owner, metadata);
            ok = true;
            return c;
        } finally {
            if (!ok) {
                for (SafetensorsFile f : opened) {
                    f.close();
                }
            }
        }
    }

    /** The folder holding the checkpoint (for a single file: its parent folder). */
    public Path dir() {
        return dir;
    }

    /** The mapped files (one, or every shard in file name order). */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** All tensor names, sorted. */
    public Set<String> names() {
        return owner.keySet();
    }

    public boolean has(String name) {
        return owner.containsKey(name);
    }

    /** @throws SafetensorsException naming the checkpoint if there is no such tensor */
    public TensorView tensor(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) {
            throw new SafetensorsException(dir + ": checkpoint has no tensor named \"" + name + "\"");
        }
        return f.tensor(name);
    }

    /** The file holding a tensor. */
    public SafetensorsFile fileOf(String name) {
        tensor(name);
        return owner.get(name);
    }

    /** The index's {@code metadata} (sharded) or the file's {@code __metadata__} (single file). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Closes every shard (unmapping it). */
    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + dir + ", " + files.size() + " files, " + owner.size() + " tensors]";
    }
}

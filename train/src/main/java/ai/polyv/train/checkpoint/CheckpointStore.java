package ai.polyv.train.checkpoint;

import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsFile;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.loader.util.AtomicFiles;
import ai.polyv.loader.util.AtomicFolders;
import ai.polyv.train.autograd.Param;
import ai.polyv.train.optim.AdamW;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training checkpoints in {@code OUT/checkpoints/}:
 * <pre>
 *   step-00000100/trainable.safetensors   F32 values of every trainable parameter (hub names)
 *   step-00000100/optimizer.safetensors   F32 "NAME.exp_avg" and "NAME.exp_avg_sq" per parameter
 *   step-00000100/state.json              {@link TrainState}: steps, data order position, settings, loss curve
 *   LATEST                                the name of the newest complete checkpoint folder
 * </pre>
 * A checkpoint is written into a hidden temp folder beside the others, every file fsynced, then the
 * folder is renamed to {@code step-N} (atomic) and {@code LATEST} replaced atomically; only after that
 * are checkpoints older than the newest {@code keep} deleted. A failure at any point leaves the previous
 * checkpoint and {@code LATEST} untouched (the temp folder is removed).
 */
public final class CheckpointStore {
    public static final String LATEST = "LATEST";
    public static final String TRAINABLE = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** Test hook: called between the phases of a save ({@code tensors}, {@code state}, {@code rename}). */
    @FunctionalInterface
    public interface Fault {
        void at(String phase) throws IOException;
    }

    /** A checkpoint read back: its folder, state, parameter values and optimizer moments by name. */
    public record Loaded(Path dir, TrainState state, Map<String, float[]> values, Map<String, AdamW.State> moments) {}

    private final Path dir;
    private final int keep;
    private final Fault fault;

    public CheckpointStore(Path dir, int keep) {
        this(dir, keep, phase -> { });
    }

    public CheckpointStore(Path dir, int keep, Fault fault) {
        if (keep < 1) throw new IllegalArgumentException("must keep at least one checkpoint, got " + keep);
        this.dir = dir;
        this.keep = keep;
        this.fault = fault;
    }

    public Path dir() {
        return dir;
    }

    public static String folderName(long step) {
        return String.format(Locale.ROOT, "step-%08d", step);
    }

    /** Writes a checkpoint of {@code params} and {@code optimizer} with {@code state}; returns its folder. */
    public Path save(List<Param> params, AdamW optimizer, TrainState state) {
        Path target = dir.resolve(folderName(state.step()));
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory(dir, "." + target.getFileName() + ".");
            Map<String, TensorSource> values = new LinkedHashMap<>();
            for (Param p : params) values.put(p.name(), new FloatSource(DType.F32, p.shape(), p.value()));
            SafetensorsWriter.write(tmp.resolve(TRAINABLE), values, Map.of("format", "pt"));
            Map<String, TensorSource> moments = new LinkedHashMap<>();
            List<AdamW.State> st = optimizer.state();
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                moments.put(p.name() + ".exp_avg", new FloatSource(DType.F32, p.shape(), st.get(i).expAvg()));
                moments.put(p.name() + ".exp_avg_sq", new FloatSource(DType.F32, p.shape(), st.get(i).expAvgSq()));
            }
            SafetensorsWriter.write(tmp.resolve(OPTIMIZER), moments, Map.of("format", "pt"));
            fault.at("tensors");
            AtomicFiles.writeString(tmp.resolve(STATE), JSON.writeValueAsString(state) + "\n");
            fault.at("state");
            AtomicFolders.publish(tmp, target);   // the same step written by an earlier run is replaced only once this one is in place
            tmp = null;
            fault.at("rename");
            AtomicFiles.writeString(dir.resolve(LATEST), target.getFileName() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) AtomicFolders.deleteQuietly(tmp);
        }
        prune(target);
        return target;
    }

    /** Checkpoint folders, oldest first. */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("step-\\d{8,}"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private void prune(Path newest) {
        List<Path> all = new ArrayList<>(list());
        all.remove(newest);
        for (int i = 0; i < all.size() - (keep - 1); i++) AtomicFolders.deleteQuietly(all.get(i));
    }

    /**
     * Finds the checkpoint to resume from: a checkpoint folder itself (holding {@value #STATE}), or a
     * folder with a {@value #LATEST} file, or a training output folder whose {@code checkpoints/} has one.
     */
    public static Path resolve(Path where) {
        if (Files.isRegularFile(where.resolve(STATE))) return where;
        for (Path d : List.of(where, where.resolve("checkpoints"))) {
            Path latest = d.resolve(LATEST);
            if (Files.isRegularFile(latest)) {
                try {
                    Path ck = d.resolve(Files.readString(latest, StandardCharsets.UTF_8).strip());
                    if (!Files.isRegularFile(ck.resolve(STATE))) throw new IllegalArgumentException(latest + " names " + ck + ", which holds no " + STATE);
                    return ck;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + latest, e);
                }
            }
        }
        throw new IllegalArgumentException("--resume " + where + ": no checkpoint there (expected " + STATE + ", " + LATEST
                + " or checkpoints/" + LATEST + ")");
    }

    /** Reads a checkpoint folder. */
    public static Loaded load(Path ck) {
        TrainState state;
        try {
            state = JSON.readValue(ck.resolve(STATE).toFile(), TrainState.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(ck.resolve(STATE) + ": not a training state: " + e.getMessage(), e);
        }
        if (state.format() != TrainState.FORMAT) {
            throw new IllegalArgumentException(ck.resolve(STATE) + ": field \"format\": expected " + TrainState.FORMAT + ", found " + state.format());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(ck.resolve(TRAINABLE))) {
            for (String n : f.names()) values.put(n, f.tensor(n).toFloatArray());
        }
        Map<String, AdamW.State> moments = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(ck.resolve(OPTIMIZER))) {
            for (String n : values.keySet()) {
                TensorView m = f.tensor(n + ".exp_avg"), v = f.tensor(n + ".exp_avg_sq");
                moments.put(n, new AdamW.State(n, m.toFloatArray(), v.toFloatArray()));
            }
        }
        return new Loaded(ck, state, values, moments);
    }

    /**
     * Copies a loaded checkpoint into the live parameters and optimizer (names, order and sizes must
     * match the objective's parameters).
     */
    public static void apply(Loaded loaded, List<Param> params, AdamW optimizer) {
        if (!loaded.values().keySet().equals(new java.util.TreeSet<>(params.stream().map(Param::name).toList()))
                || loaded.values().size() != params.size()) {
            throw new IllegalArgumentException(loaded.dir().resolve(TRAINABLE) + ": holds parameters " + loaded.values().keySet()
                    + ", the objective trains " + params.stream().map(Param::name).toList());
        }
        List<AdamW.State> ordered = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] v = loaded.values().get(p.name());
            if (v.length != p.numel()) {
                throw new IllegalArgumentException(loaded.dir().resolve(TRAINABLE) + ": tensor \"" + p.name() + "\" has " + v.length
                        + " values, the parameter has " + p.numel());
            }
            System.arraycopy(v, 0, p.value(), 0, v.length);
            ordered.add(loaded.moments().get(p.name()));
        }
        optimizer.restore(ordered, loaded.state().optimizerStep());
    }
}

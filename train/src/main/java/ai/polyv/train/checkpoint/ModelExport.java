package ai.polyv.train.checkpoint;

import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorData;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.loader.util.AtomicFolders;
import ai.polyv.train.autograd.Param;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes the fine-tuned model as a full model folder that {@code generate} loads like the base one:
 * every non-weight file of the base folder ({@code config.json}, tokenizer files, ...) copied, and the
 * base checkpoint's tensors re-written with the trained ones replacing theirs. Frozen tensors are zero-copy
 * slices of the mapped base files and trained ones are encoded while they stream, so the model is
 * never held in heap a second time; a trained tensor keeps the base tensor's dtype (BF16 in real
 * checkpoints). Shards of at most {@value #SHARD_BYTES} bytes, hub layout. The folder is assembled under a
 * hidden temp name and renamed into place; an older export at the target is replaced only after that.
 */
public final class ModelExport {
    public static final long SHARD_BYTES = 4L << 30;

    private ModelExport() {}

    /**
     * Checks, before training, that every trained parameter is a tensor of the base checkpoint with the same
     * shape and a floating-point dtype (so that {@link #write} cannot fail on them at the end of a run).
     */
    public static void check(Path baseModel, List<Param> trained) {
        try (Checkpoint base = Checkpoint.open(baseModel)) {
            HubNaming naming = HubNaming.detect(base.names(), "base checkpoint " + baseModel);
            for (Param p : trained) {
                if (!base.has(naming.stored(p.name()))) {
                    throw new IllegalArgumentException("trained tensor \"" + naming.stored(p.name()) + "\" is not in the base checkpoint " + baseModel);
                }
                TensorView v = base.tensor(naming.stored(p.name()));
                if (!Arrays.equals(v.shape(), p.shape())) {
                    throw new IllegalArgumentException("trained tensor \"" + p.name() + "\" has shape " + Arrays.toString(p.shape())
                            + ", the base checkpoint " + baseModel + " has " + Arrays.toString(v.shape()));
                }
                if (!v.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException("trained tensor \"" + p.name() + "\" is " + v.dtype() + " in the base checkpoint " + baseModel
                            + ", not a floating-point type");
                }
            }
        }
    }

    public static void write(Path baseModel, List<Param> trained, Path target) {
        PolyVConfig.load(baseModel); // fails early, naming the file, when the base has no valid config
        Path abs = target.toAbsolutePath();
        Path tmp = null;
        try (Checkpoint base = Checkpoint.open(baseModel)) {
            Files.createDirectories(abs.getParent());
            tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".");
            HubNaming naming = HubNaming.detect(base.names(), "base checkpoint " + baseModel);
            Map<String, Param> byName = new LinkedHashMap<>();   // by stored name: the export keeps the base's naming
            for (Param p : trained) byName.put(naming.stored(p.name()), p);
            Map<String, TensorSource> tensors = new LinkedHashMap<>();
            for (String name : base.names()) {
                TensorView v = base.tensor(name);
                Param p = byName.remove(name);
                if (p == null) {
                    tensors.put(name, TensorData.of(v));
                } else {
                    if (!Arrays.equals(v.shape(), p.shape())) {
                        throw new IllegalArgumentException("trained tensor \"" + name + "\" has shape " + Arrays.toString(p.shape())
                                + ", the base checkpoint " + baseModel + " has " + Arrays.toString(v.shape()));
                    }
                    tensors.put(name, new FloatSource(v.dtype(), p.shape(), p.value()));
                }
            }
            if (!byName.isEmpty()) {
                throw new IllegalArgumentException("trained tensors " + byName.keySet() + " are not in the base checkpoint " + baseModel);
            }
            SafetensorsWriter.writeSharded(tmp, tensors, Map.of("format", "pt"), SHARD_BYTES);
            try (Stream<Path> s = Files.list(baseModel)) {
                for (Path f : s.filter(Files::isRegularFile).toList()) {
                    String n = f.getFileName().toString();
                    if (n.endsWith(".safetensors") || n.equals(Checkpoint.INDEX_NAME)) continue;
                    Files.copy(f, tmp.resolve(n));
                }
            }
            AtomicFolders.publish(tmp, abs);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the fine-tuned model " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) AtomicFolders.deleteQuietly(tmp);   // a hidden leftover otherwise
        }
    }
}

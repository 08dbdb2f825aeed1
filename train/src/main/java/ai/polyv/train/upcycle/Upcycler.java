package ai.polyv.train.upcycle;

import ai.polyv.core.demo.DemoWeights;
import ai.polyv.loader.config.ConfigException;
import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.Position3dConfig;
import ai.polyv.loader.config.SynergyConfig;
import ai.polyv.loader.layout.HubNames;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsException;
import ai.polyv.loader.safetensors.SafetensorsWriter;
import ai.polyv.loader.safetensors.TensorSource;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.loader.util.AtomicFolders;
import ai.polyv.loader.util.PathChecks;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Sparse upcycling of a dense Qwen2.5-VL checkpoint into a PolyV MoE checkpoint (the paper's initialisation
 * of its MoE layers).
 *
 * <p><b>Rule.</b> In every layer {@code L} of {@code moeLayers}, each dense FFN tensor
 * {@code model.layers.L.mlp.X} ({@code gate_proj/up_proj/down_proj.weight}, and any other tensor under that
 * prefix) is replaced by {@code model.layers.L.mlp.experts.E.X} for every expert {@code E}:
 * <ul>
 *   <li>expert 0 copies the base FFN;</li>
 *   <li>expert {@code i + 1} copies donor {@code i}'s FFN (donors in the order given);</li>
 *   <li>experts beyond the donors ({@code E > donors}) copy the base FFN.</li>
 * </ul>
 * The router {@code model.layers.L.mlp.gate.weight [experts, hidden]} is normal(0, routerStd) as
 * {@link SeededInit} describes. New synergy heads (optional) are {@code synergy_heads.{temporal,spatial}.fc1/fc2}
 * with normal(0, headStd) weights and zero biases. Every other tensor is copied byte for byte from the base.
 * New tensors take the dtype of the base FFN; donor tensors of another float dtype are converted.
 *
 * <p>config.json is the base config with {@code architectures = ["PolyVForConditionalGeneration"]} and PolyV's
 * {@code moe}, {@code synergy} (when heads are added or the base had it) and {@code position_3d} objects.
 *
 * <p><b>Streaming.</b> Inputs stay memory-mapped; the output is written tensor by tensor through
 * {@link SafetensorsWriter#writeSharded} in chunks; no tensor is held in heap. <b>Atomic.</b> Everything is
 * written into a temp folder beside the output, which is renamed into place only when complete.
 *
 * <p>{@link #open} validates everything and builds the plan before any byte is written; the inputs stay open
 * (mapped) until {@link #close()}.
 */
public final class Upcycler implements AutoCloseable {
    /** Files copied from the base folder when present (tokenizer and processor files). */
    public static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json", "vocab.json",
            "merges.txt", "special_tokens_map.json", "added_tokens.json", "generation_config.json",
            "preprocessor_config.json", "chat_template.json", "chat_template.jinja");
    public static final String ARCHITECTURE = "PolyVForConditionalGeneration";
    private static final List<String> FFN_REQUIRED = List.of("gate_proj.weight", "up_proj.weight", "down_proj.weight");

    private final UpcycleOptions options;
    private final Checkpoint base;
    private final List<Checkpoint> donors;
    private final PolyVConfig config;
    private final DType dtype;
    private final List<PlannedTensor> tensors; // sorted by name
    private final List<String> ffnSuffixes;    // X of model.layers.L.mlp.X in the first MoE layer

    private Upcycler(UpcycleOptions options, Checkpoint base, List<Checkpoint> donors, PolyVConfig config, DType dtype,
                     List<PlannedTensor> tensors, List<String> ffnSuffixes) {
        this.options = options;
        this.base = base;
        this.donors = donors;
        this.config = config;
        this.dtype = dtype;
        this.tensors = tensors;
        this.ffnSuffixes = ffnSuffixes;
    }

    /** What was written. */
    public record Summary(Path out, int tensors, long params, long bytes, int shards, Duration time) {
        public double bytesPerSecond() {
            return bytes / Math.max(1e-9, time.toNanos() / 1e9);
        }
    }

    /**
     * Validates the options and inputs and plans every output tensor.
     *
     * @throws UpcycleException naming the option, folder or tensor at fault
     */
    public static Upcycler open(UpcycleOptions o) {
        checkOptions(o);
        PolyVConfig baseConfig = loadConfig(o.base(), "base");
        if (baseConfig.isMoe()) {
            throw new UpcycleException(o.base() + ": config.json already has a moe object; upcycle needs a dense "
                    + "Qwen2.5-VL checkpoint");
        }
        int layers = baseConfig.text().numLayers();
        for (int l : o.moeLayers()) {
            if (l < 0 || l >= layers) {
                throw new UpcycleException("--moe-layers: layer " + l + " is out of range: " + o.base()
                        + " has num_hidden_layers = " + layers + " (valid: 0.." + (layers - 1) + ")");
            }
        }
        List<Checkpoint> opened = new ArrayList<>();
        boolean ok = false;
        try {
            Checkpoint base = openCheckpoint(o.base(), "base");
            opened.add(base);
            List<Checkpoint> donors = new ArrayList<>();
            for (int i = 0; i < o.donors().size(); i++) {
                Path d = o.donors().get(i);
                if (Files.isRegularFile(d.resolve(PolyVConfig.FILE_NAME))) {
                    loadConfig(d, "donor " + (i + 1));
                }
                Checkpoint c = openCheckpoint(d, "donor " + (i + 1));
                opened.add(c);
                donors.add(c);
            }
            Upcycler u = plan(o, base, donors, baseConfig);
            ok = true;
            return u;
        } finally {
            if (!ok) {
                opened.forEach(Checkpoint::close);
            }
        }
    }

    private static void checkOptions(UpcycleOptions o) {
        if (o.experts() < 1) {
            throw new UpcycleException("--experts must be at least 1, got " + o.experts());
        }
        if (o.topK() < 1 || o.topK() > o.experts()) {
            throw new UpcycleException("--top-k must be in [1, experts = " + o.experts() + "], got " + o.topK());
        }
        if (o.donors().size() > o.experts() - 1) {
            throw new UpcycleException("--experts-from: " + o.donors().size() + " donor(s) given but only "
                    + (o.experts() - 1) + " expert(s) after expert 0 (--experts " + o.experts() + ")");
        }
        int[] layers = o.moeLayers();
        if (layers.length == 0) {
            throw new UpcycleException("--moe-layers: at least one layer index is needed");
        }
        Set<Integer> seen = new HashSet<>();
        for (int l : layers) {
            if (!seen.add(l)) {
                throw new UpcycleException("--moe-layers: layer " + l + " is listed twice in " + Arrays.toString(layers));
            }
        }
        if (!(o.routerStd() >= 0) || !Double.isFinite(o.routerStd())) {
            throw new UpcycleException("--router-std must be a finite number >= 0, got " + o.routerStd());
        }
        if (!(o.headStd() >= 0) || !Double.isFinite(o.headStd())) {
            throw new UpcycleException("--head-std must be a finite number >= 0, got " + o.headStd());
        }
        if (!(o.auxLossCoef() >= 0) || !Double.isFinite(o.auxLossCoef())) {
            throw new UpcycleException("--aux-loss-coef must be a finite number >= 0, got " + o.auxLossCoef());
        }
        if (o.maxShardBytes() <= 0) {
            throw new UpcycleException("--max-shard-size must be positive, got " + o.maxShardBytes() + " bytes");
        }
    }

    private static void requireFolder(Path dir, String role) {
        String problem = PathChecks.notADirectory(dir);
        if (problem != null) throw new UpcycleException(role + " " + dir + " " + problem);
    }

    private static PolyVConfig loadConfig(Path dir, String role) {
        requireFolder(dir, role);
        try {
            return PolyVConfig.load(dir);
        } catch (ConfigException e) {
            throw new UpcycleException(role + " " + e.getMessage(), e);
        }
    }

    private static Checkpoint openCheckpoint(Path dir, String role) {
        requireFolder(dir, role);
        try {
            return Checkpoint.open(dir);
        } catch (SafetensorsException e) {
            throw new UpcycleException(role + " " + dir + ": cannot open checkpoint: " + e.getMessage(), e);
        }
    }

    private static String mlpPrefix(int layer) {
        return HubNames.mlp(layer);
    }

    private static Upcycler plan(UpcycleOptions o, Checkpoint base, List<Checkpoint> donors, PolyVConfig baseConfig) {
        int hidden = baseConfig.text().hiddenSize();
        int[] moeLayers = o.moeLayers();
        Arrays.sort(moeLayers);
        // the dense FFN tensors of every MoE layer: model.layers.L.mlp.X
        Map<Integer, List<String>> ffn = new TreeMap<>();
        for (int l : moeLayers) {
            String p = mlpPrefix(l);
            List<String> suffixes = base.names().stream().filter(n -> n.startsWith(p)).map(n -> n.substring(p.length())).toList();
            for (String req : FFN_REQUIRED) {
                if (!suffixes.contains(req)) {
                    throw new UpcycleException("base " + o.base() + ": has no tensor \"" + p + req + "\" (layer " + l
                            + " must have a dense Qwen2 FFN)");
                }
            }
            ffn.put(l, suffixes);
        }
        DType dtype = base.tensor(mlpPrefix(moeLayers[0]) + "gate_proj.weight").dtype();
        // donors: same FFN tensors, same shapes, floating point
        for (int i = 0; i < donors.size(); i++) {
            Checkpoint d = donors.get(i);
            for (var e : ffn.entrySet()) {
                for (String s : e.getValue()) {
                    String name = mlpPrefix(e.getKey()) + s;
                    TensorView b = base.tensor(name);
                    if (!d.has(name)) {
                        throw new UpcycleException("donor " + (i + 1) + " " + o.donors().get(i) + ": has no tensor \""
                                + name + "\" (needed for expert " + (i + 1) + " of layer " + e.getKey() + ")");
                    }
                    TensorView t = d.tensor(name);
                    if (!Arrays.equals(t.shape(), b.shape())) {
                        throw new UpcycleException("donor " + (i + 1) + " " + o.donors().get(i) + ": tensor \"" + name
                                + "\" has shape " + Arrays.toString(t.shape()) + ", the base has " + Arrays.toString(b.shape()));
                    }
                    if (!t.dtype().isFloatingPoint() || !b.dtype().isFloatingPoint()) {
                        throw new UpcycleException("donor " + (i + 1) + " " + o.donors().get(i) + ": tensor \"" + name
                                + "\" is " + t.dtype() + " (base " + b.dtype() + "); FFN weights must be floating point");
                    }
                }
            }
        }
        List<PlannedTensor> out = new ArrayList<>();
        for (String name : base.names()) {
            TensorView v = base.tensor(name);
            Integer layer = moeLayerOf(name, ffn.keySet());
            if (layer == null) {
                out.add(new PlannedTensor(name, v.dtype(), v.shape(), new TensorOrigin.Copy("base", v)));
                continue;
            }
            String suffix = name.substring(mlpPrefix(layer).length());
            for (int e = 0; e < o.experts(); e++) {
                boolean fromDonor = e >= 1 && e <= donors.size();
                TensorView src = fromDonor ? donors.get(e - 1).tensor(name) : v;
                out.add(new PlannedTensor(HubNames.expert(layer, e) + suffix, v.dtype(), v.shape(),
                        new TensorOrigin.Copy(fromDonor ? "donor " + e : "base", src)));
            }
        }
        for (int l : moeLayers) {
            out.add(new PlannedTensor(HubNames.router(l), dtype, new long[] {o.experts(), hidden},
                    new TensorOrigin.Normal(o.seed(), o.routerStd())));
        }
        SynergyConfig synergy = baseConfig.synergy();
        if (o.synergyHeads() != null) {
            if (base.names().stream().anyMatch(n -> n.startsWith(HubNames.SYNERGY_HEADS))) {
                throw new UpcycleException("base " + o.base() + ": already has synergy_heads.* tensors (they are copied); "
                        + "drop --synergy-heads");
            }
            synergy = synergyConfig(o.synergyHeads(), baseConfig);
            addHead(out, HubNames.synergyHead("temporal"), hidden, synergy.temporal(), dtype, o);
            addHead(out, HubNames.synergyHead("spatial"), hidden, synergy.spatial(), dtype, o);
        }
        Set<String> names = new HashSet<>();
        for (PlannedTensor t : out) {
            if (!names.add(t.name())) {
                throw new UpcycleException("base " + o.base() + ": output tensor \"" + t.name() + "\" would be written twice "
                        + "(the base already has it)");
            }
        }
        out.sort(Comparator.comparing(PlannedTensor::name));
        PolyVConfig config = outputConfig(o, baseConfig, synergy);
        checkLayout(o, config, out);
        return new Upcycler(o, base, List.copyOf(donors), config, dtype, List.copyOf(out), ffn.get(moeLayers[0]));
    }

    /**
     * Every tensor a PolyV model of the output config needs ({@link DemoWeights#tensors}: the hub layout) must be
     * planned with that shape, so a base whose weights do not match its config.json fails here, before any byte
     * is written, and not when the result is loaded. Extra tensors are allowed (kept, and counted in the plan).
     */
    private static void checkLayout(UpcycleOptions o, PolyVConfig config, List<PlannedTensor> out) {
        Map<String, long[]> planned = new TreeMap<>();
        for (PlannedTensor t : out) {
            planned.put(t.name(), t.shape());
        }
        for (DemoWeights.TensorSpec need : DemoWeights.tensors(config)) {
            long[] have = planned.get(need.name());
            if (have == null) {
                throw new UpcycleException("base " + o.base() + ": has no tensor \"" + need.name() + "\" "
                        + Arrays.toString(need.shape()) + " that a model of its config.json needs");
            }
            if (!Arrays.equals(have, need.shape())) {
                throw new UpcycleException("base " + o.base() + ": tensor \"" + need.name() + "\" has shape "
                        + Arrays.toString(have) + ", its config.json implies " + Arrays.toString(need.shape()));
            }
        }
    }

    private static Integer moeLayerOf(String name, Set<Integer> layers) {
        int l = HubNames.layerOf(name);
        return l >= 0 && layers.contains(l) && name.startsWith(mlpPrefix(l)) ? l : null;
    }

    private static SynergyConfig synergyConfig(UpcycleOptions.SynergyHeads h, PolyVConfig c) {
        SynergyConfig have = c.synergy();
        int vocab = c.text().vocabSize();
        int token = h.tokenId() != null ? h.tokenId() : have != null ? have.tokenId() : vocab - 1;
        if (token < 0 || token >= vocab) {
            throw new UpcycleException("--synergy-token-id must be in [0, vocab_size = " + vocab + "), got " + token);
        }
        int hid = c.text().hiddenSize();
        int tHidden = h.hiddenSize() != null ? h.hiddenSize() : have != null ? have.temporal().hiddenSize() : hid;
        int sHidden = h.hiddenSize() != null ? h.hiddenSize() : have != null ? have.spatial().hiddenSize() : hid;
        int tOut = h.temporalOut() != null ? h.temporalOut() : have != null ? have.temporal().outSize() : 1024;
        int sOut = h.spatialOut() != null ? h.spatialOut() : have != null ? have.spatial().outSize() : 2048;
        try {
            return new SynergyConfig(token, new SynergyConfig.HeadSize(tHidden, tOut), new SynergyConfig.HeadSize(sHidden, sOut));
        } catch (ConfigException e) {
            throw new UpcycleException("synergy heads: " + e.getMessage(), e);
        }
    }

    private static void addHead(List<PlannedTensor> out, String p, int hidden, SynergyConfig.HeadSize s, DType dtype,
                                UpcycleOptions o) {
        TensorOrigin.Normal w = new TensorOrigin.Normal(o.seed(), o.headStd());
        out.add(new PlannedTensor(p + "fc1.weight", dtype, new long[] {s.hiddenSize(), hidden}, w));
        out.add(new PlannedTensor(p + "fc1.bias", dtype, new long[] {s.hiddenSize()}, new TensorOrigin.Zeros()));
        out.add(new PlannedTensor(p + "fc2.weight", dtype, new long[] {s.outSize(), s.hiddenSize()}, w));
        out.add(new PlannedTensor(p + "fc2.bias", dtype, new long[] {s.outSize()}, new TensorOrigin.Zeros()));
    }

    private static PolyVConfig outputConfig(UpcycleOptions o, PolyVConfig c, SynergyConfig synergy) {
        ObjectNode raw = c.raw() instanceof ObjectNode r ? r : null;
        if (raw != null) {
            raw.putArray("architectures").add(ARCHITECTURE);
        }
        Position3dConfig pos = c.position3d();
        if (pos == null && o.position3d()) {
            pos = new Position3dConfig("sincos", 10000.0, c.vision().patchSize() * c.vision().spatialMergeSize());
        }
        int[] layers = o.moeLayers();
        Arrays.sort(layers);
        try {
            return new PolyVConfig(c.text(), c.vision(),
                    new MoeConfig(layers, o.experts(), o.topK(), o.normTopkProb(), o.auxLossCoef()), synergy, pos,
                    c.tokens(), raw);
        } catch (ConfigException e) {
            throw new UpcycleException("output config: " + e.getMessage(), e);
        }
    }

    public PolyVConfig config() {
        return config;
    }

    /** Every output tensor, sorted by name. */
    public List<PlannedTensor> tensors() {
        return tensors;
    }

    /** Output dtype of the new tensors (the base FFN's). */
    public DType dtype() {
        return dtype;
    }

    public long totalBytes() {
        return tensors.stream().mapToLong(PlannedTensor::byteSize).sum();
    }

    public long totalParams() {
        return tensors.stream().mapToLong(PlannedTensor::numel).sum();
    }

    /** Where expert {@code e}'s FFN comes from: {@code base} or {@code donor i (folder)}. */
    public String expertOrigin(int e) {
        if (e >= 1 && e <= donors.size()) {
            return "donor " + e + " " + options.donors().get(e - 1);
        }
        return e == 0 ? "base FFN" : "base FFN (no donor for this expert: experts beyond the donors copy the base)";
    }

    /** The human-readable plan: inputs, MoE rule per expert, new tensors, shared tensors, output size. */
    public String describePlan(boolean everyTensor) {
        StringBuilder b = new StringBuilder();
        MoeConfig m = config.moe();
        b.append(String.format(Locale.ROOT, "base     %s (%d tensors, %s, %s)%n", options.base(), base.names().size(),
                dtype, bytes(base.names().stream().mapToLong(n -> base.tensor(n).byteSize()).sum())));
        for (int i = 0; i < donors.size(); i++) {
            b.append(String.format(Locale.ROOT, "donor %d  %s (%d tensors)%n", i + 1, options.donors().get(i),
                    donors.get(i).names().size()));
        }
        b.append(String.format(Locale.ROOT, "moe      layers %s: %d experts, top-%d, norm_topk_prob %s, aux_loss_coef %s%n",
                Arrays.toString(m.layers()), m.numExperts(), m.topK(), m.normTopkProb(), m.auxLossCoef()));
        b.append("         mlp.{").append(String.join(",", ffnSuffixes)).append("} -> mlp.experts.E.*:\n");
        for (int e = 0; e < m.numExperts(); e++) {
            b.append(String.format(Locale.ROOT, "           expert %d <- %s%n", e, expertOrigin(e)));
        }
        b.append(String.format(Locale.ROOT, "         mlp.gate.weight [%d, %d] %s <- normal(0, %s), %s seed %d ^ name.hashCode()%n",
                m.numExperts(), config.text().hiddenSize(), dtype, options.routerStd(), SeededInit.ALGORITHM, options.seed()));
        if (options.synergyHeads() != null) {
            SynergyConfig s = config.synergy();
            b.append(String.format(Locale.ROOT, "synergy  token %d; heads temporal %d->%d->%d, spatial %d->%d->%d: weights normal(0, %s) seed %d, biases 0%n",
                    s.tokenId(), config.text().hiddenSize(), s.temporal().hiddenSize(), s.temporal().outSize(),
                    config.text().hiddenSize(), s.spatial().hiddenSize(), s.spatial().outSize(), options.headStd(), options.seed()));
        } else if (config.synergy() != null) {
            b.append("synergy  kept from the base config (token ").append(config.synergy().tokenId()).append(")\n");
        }
        if (config.position3d() != null) {
            b.append(String.format(Locale.ROOT, "pos3d    %s base %s merge_pixels %d (config only, no weights)%n",
                    config.position3d().encoding(), config.position3d().base(), config.position3d().mergePixels()));
        }
        long sharedCount = 0, sharedBytes = 0, expertBytes = 0, newBytes = 0;
        for (PlannedTensor t : tensors) {
            if (t.origin() instanceof TensorOrigin.Copy c && c.view().name().equals(t.name()) && c.from().equals("base")) {
                sharedCount++;
                sharedBytes += t.byteSize();
            } else if (t.origin() instanceof TensorOrigin.Copy) {
                expertBytes += t.byteSize();
            } else {
                newBytes += t.byteSize();
            }
        }
        b.append(String.format(Locale.ROOT, "shared   %d tensors copied byte for byte from the base (%s)%n", sharedCount, bytes(sharedBytes)));
        b.append(String.format(Locale.ROOT, "experts  %s copied; new (router, heads) %s%n", bytes(expertBytes), bytes(newBytes)));
        b.append(String.format(Locale.ROOT, "output   %d tensors, %,d params, %s, shards of at most %s%n", tensors.size(),
                totalParams(), bytes(totalBytes()), bytes(options.maxShardBytes())));
        List<String> side = SIDE_FILES.stream().filter(f -> Files.isRegularFile(options.base().resolve(f))).toList();
        b.append("files    config.json").append(side.isEmpty() ? "" : ", " + String.join(", ", side)).append('\n');
        if (everyTensor) {
            for (PlannedTensor t : tensors) {
                b.append("  ").append(t).append('\n');
            }
        }
        return b.toString();
    }

    /** {@code 1.23 GB}, {@code 45.6 MB}, {@code 7.8 KB} or {@code 12 B} (decimal units). */
    public static String bytes(long n) {
        return n >= 1_000_000_000L ? String.format(Locale.ROOT, "%.2f GB", n / 1e9)
                : n >= 1_000_000L ? String.format(Locale.ROOT, "%.1f MB", n / 1e6)
                : n >= 1_000L ? String.format(Locale.ROOT, "%.1f KB", n / 1e3) : n + " B";
    }

    /**
     * Writes the checkpoint to {@code out} atomically: into a temp folder beside it, then renamed. An existing
     * {@code out} is refused unless {@code force}; with {@code force} it is replaced only after the new
     * checkpoint is complete (moved aside, the new one renamed in, the old one deleted).
     *
     * @param progress receives the byte count of every chunk written (for a progress bar)
     */
    public Summary write(Path out, boolean force, LongConsumer progress) {
        Path target = out.toAbsolutePath().normalize();
        checkTarget(target, force);
        Path parent = target.getParent();
        long start = System.nanoTime();
        Path tmp;
        try {
            Files.createDirectories(parent);
            long need = totalBytes();
            long free = Files.getFileStore(parent).getUsableSpace();
            if (free < need) {
                throw new UpcycleException("--out " + out + ": needs " + bytes(need) + " but only " + bytes(free) + " is free in " + parent);
            }
            tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".upcycle-");
        } catch (IOException e) {
            throw new UpcycleException("--out " + out + ": cannot create a temp folder in " + parent + ": " + e, e);
        }
        boolean done = false;
        // an interrupted run (Ctrl-C) leaves no half-written temp folder behind
        Path tmpDir = tmp;
        Thread cleanup = new Thread(() -> deleteTreeQuietly(tmpDir), "upcycle-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            Map<String, TensorSource> sources = new TreeMap<>();
            for (PlannedTensor t : tensors) {
                sources.put(t.name(), t.source(progress));
            }
            SafetensorsWriter.writeSharded(tmp, sources, Map.of("format", "pt"), options.maxShardBytes());
            config.save(tmp.resolve(PolyVConfig.FILE_NAME));
            for (String f : SIDE_FILES) {
                Path src = options.base().resolve(f);
                if (Files.isRegularFile(src)) {
                    Files.copy(src, tmp.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            publish(tmp);
            int shards;
            try (Stream<Path> s = Files.list(tmp)) {
                shards = (int) s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).count();
            }
            commit(tmp, target, force);
            done = true;
            return new Summary(target, tensors.size(), totalParams(), totalBytes(), shards, Duration.ofNanos(System.nanoTime() - start));
        } catch (IOException e) {
            throw new UpcycleException("--out " + out + ": cannot write: " + e, e);
        } finally {
            Runtime.getRuntime().removeShutdownHook(cleanup);
            if (!done) {
                AtomicFolders.deleteTree(tmp);
            }
        }
    }

    private static void deleteTreeQuietly(Path p) {
        try {
            AtomicFolders.deleteTree(p);
        } catch (UncheckedIOException ignored) {
            // best effort while the JVM shuts down
        }
    }

    /**
     * Gives the finished folder the usual checkpoint permissions (rwxr-xr-x, files rw-r--r--) instead of the
     * owner-only ones of temp folders and files, where the file system has POSIX permissions.
     */
    private static void publish(Path dir) throws IOException {
        if (!Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class)) {
            return;
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
    }

    /**
     * Checks an output folder before any work: it must not exist unless {@code force}, and must not overlap
     * the base or a donor folder. {@link #write} checks again.
     */
    public void checkOutput(Path out, boolean force) {
        checkTarget(out.toAbsolutePath().normalize(), force);
    }

    private void checkTarget(Path target, boolean force) {
        if (Files.exists(target) && !force) {
            throw new UpcycleException("--out " + target + " already exists (use --force to replace it)");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target)) {   // --force replaces a folder, never a file or a device
            throw new UpcycleException("--out " + target + " " + PathChecks.notADirectory(target) + ": not replacing it");
        }
        List<Path> inputs = new ArrayList<>();
        inputs.add(options.base());
        inputs.addAll(options.donors());
        for (Path in : inputs) {
            Path a = in.toAbsolutePath().normalize();
            try {
                a = a.toRealPath();
            } catch (IOException ignored) {
                // keep the normalised path
            }
            Path t = target;
            try {
                if (Files.exists(target)) {
                    t = target.toRealPath();
                }
            } catch (IOException ignored) {
                // keep the normalised path
            }
            if (t.startsWith(a) || a.startsWith(t)) {
                throw new UpcycleException("--out " + target + " overlaps the input " + in + "; choose another folder");
            }
        }
    }

    private static void commit(Path tmp, Path target, boolean force) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                AtomicFolders.move(tmp, target);
                return;
            } catch (FileAlreadyExistsException e) {
                if (!force) {
                    throw new UpcycleException("--out " + target + " appeared while writing (use --force to replace it)");
                }
            }
        }
        if (!force) {
            throw new UpcycleException("--out " + target + " already exists (use --force to replace it)");
        }
        AtomicFolders.publish(tmp, target);
    }


    /** Closes (unmaps) the base and donor checkpoints. */
    @Override
    public void close() {
        base.close();
        donors.forEach(Checkpoint::close);
    }

    /** Names of the base tensors that are replaced by experts (for tests and reports). */
    public Set<String> replacedBaseTensors() {
        Set<String> s = new TreeSet<>();
        for (int l : config.moe().layers()) {
            base.names().stream().filter(n -> n.startsWith(mlpPrefix(l))).forEach(s::add);
        }
        return s;
    }
}

package ai.polyv.bench.jmh;

import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.config.MoeConfig;
import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.config.TextConfig;
import ai.polyv.loader.config.TokenIds;
import ai.polyv.loader.config.VisionConfig;
import ai.polyv.loader.safetensors.SafetensorsFile;
import ai.polyv.loader.safetensors.TensorView;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Opening a checkpoint file is independent of its size: the file is mapped, only the header is read and parsed,
 * and tensors are zero-copy views. Measures one open cycle ({@link SafetensorsFile#open}: map, read + parse +
 * validate the header, create every {@link TensorView}; then close, which unmaps) on
 * <ul>
 *   <li>{@code big4g}: a generated 4 GiB file with a real header: the first 4 GiB of PolyV-7B's BF16 tensors in
 *       {@link WeightLayout#expected} order (the whole vision tower, embeddings, the first decoder layers; Qwen2.5-VL-7B
 *       + MoE on layers 0,4,...,24), about one hub shard. The data region is a sparse
 *       hole (zeros), created in java.io.tmpdir at trial setup and deleted at teardown;</li>
 *   <li>{@code tinyA}: the golden tiny-a model.safetensors (157 F32 tensors, 5.5 MiB).</li>
 * </ul>
 * {@code openReadFirst} also reads the first element of the last tensor in data order (one page fault);
 * {@code mapOnly} is the floor: map the whole file into a shared arena and close it, without reading the header.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)   // percentiles: the median is robust on a shared machine
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CheckpointOpenBench {
    static final long TARGET_BYTES = 4L << 30;

    @Param({"big4g", "tinyA"})
    public String file;

    private Path path;
    private boolean generated;
    private String lastTensor;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (file.equals("big4g")) {
            path = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "polyv-open-4g-", ".safetensors");
            generated = true;
            lastTensor = writeSparse(path, polyV7bTensors(), TARGET_BYTES);
        } else {
            path = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a", "model.safetensors");
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException(path.toAbsolutePath() + " not found: run from the repository root "
                        + "(../shared beside it) or pass -jvmArgsAppend -Dpolyv.shared=DIR");
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            if (lastTensor == null) {
                lastTensor = f.entries().keySet().stream().reduce((a, b) -> b).orElseThrow();
            }
            System.out.printf("%n%s: %s, %d tensors, %.3f GiB, header %d bytes%n", file, path, f.names().size(),
                    f.fileSize() / (double) (1L << 30), f.headerLength());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (generated) {
            Files.deleteIfExists(path);
        }
    }

    @Benchmark
    public int openParseViews() {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return f.tensors().size();
        }
    }

    @Benchmark
    public float openReadFirst() {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return f.tensor(lastTensor).floatAt(0);
        }
    }

    /** The floor under {@code openParseViews}: map the whole file into a shared arena and close it, no parsing. */
    @Benchmark
    public long mapOnly() throws IOException {
        try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena).byteSize();
        }
    }

    /** PolyV-7B's checkpoint tensors (names and shapes), BF16. */
    static List<TensorSpec> polyV7bTensors() {
        TextConfig text = new TextConfig(3584, 18944, 28, 28, 4, 152064, 1e-6, 1_000_000.0, new int[] {16, 24, 24},
                128000, false, "silu");
        PolyVConfig c = new PolyVConfig(text, VisionConfig.qwen25vl7b(), MoeConfig.polyv7b(), null, null,
                new TokenIds(151655, 151656, 151652, 151653, null, List.of(151645)));
        return WeightLayout.expected(c);
    }

    /**
     * Writes a safetensors file holding the first tensors of {@code specs} (in list order, BF16) whose data
     * reach {@code targetBytes}: the header as the project's writer lays it out (compact JSON, data in name
     * order for one dtype, padded with spaces to 8 bytes), the data region left as a sparse hole.
     *
     * @return the name of the last tensor in data order
     */
    static String writeSparse(Path file, List<TensorSpec> specs, long targetBytes) throws IOException {
        Map<String, long[]> chosen = new TreeMap<>();
        long total = 0;
        for (TensorSpec s : specs) {
            if (total >= targetBytes) {
                break;
            }
            chosen.put(s.name(), s.shape());
            total += s.numel() * 2;
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        String last = null;
        for (Map.Entry<String, long[]> e : chosen.entrySet()) {
            long bytes = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b) * 2;
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "BF16");
            var shape = t.putArray("shape");
            for (long d : e.getValue()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
            last = e.getKey();
        }
        byte[] h = json.writeValueAsBytes(header);
        byte[] padded = Arrays.copyOf(h, (h.length + 7) / 8 * 8);
        Arrays.fill(padded, h.length, padded.length, (byte) ' ');
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded.length).array());
            raf.write(padded);
            raf.setLength(8L + padded.length + offset);
        }
        return last;
    }
}

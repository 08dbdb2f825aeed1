package ai.polyv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.cli.Main;
import ai.polyv.bench.cuda.GpuCeilings;
import ai.polyv.bench.cuda.GpuResults;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code polyv bench chart}: reads the rows of ops and kernels JSON, draws one bar per row. */
class PerfChartTest {
    static final String OPS = """
            {"benchmark": "ops", "machine": {"cpu": "Test CPU", "processors": 2, "startedAt": "2026-12-01T19:47:18Z"},
             "results": [{"name": "gemv.bf16.3584x3584", "bound": "MEMORY", "fraction": 0.5},
                         {"name": "gemm.bf16.n64.3584x3584", "bound": "COMPUTE", "fraction": 0.25}]}
            """;

    @Test
    void opsJsonGivesOneBarPerRowAndATitleWithDateAndMachine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ops.json");
        Files.writeString(f, OPS);
        PerfChart.Chart c = PerfChart.read(List.of(f));
        assertEquals("bench ops, 2026-12-01, Test CPU, 2 processors", c.title());
        assertEquals(List.of(new PerfChart.Bar("gemv.bf16.3584x3584", 0.5, Bound.MEMORY),
                new PerfChart.Bar("gemm.bf16.n64.3584x3584", 0.25, Bound.COMPUTE)), c.bars());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(PerfChart.png(c)));
        assertTrue(img.getWidth() >= 700 && img.getHeight() >= 70 + 2 * 24, img.getWidth() + "x" + img.getHeight());
        // the first bar (y = 70 .. 88) starts at the plot's left edge in the memory-bound colour
        int left = -1;
        for (int x = 0; x < img.getWidth() && left < 0; x++) if ((img.getRGB(x, 79) & 0xFFFFFF) == 0x3b75af) left = x;
        assertTrue(left > 0, "no memory-bound bar on the first row");
        int right = left;
        while ((img.getRGB(right + 1, 79) & 0xFFFFFF) == 0x3b75af) right++;
        assertEquals(320, right - left + 1, 3);          // 50% of the 640-pixel plot (axis ends at 100%); the y axis covers its first pixels
    }

    @Test
    void kernelsJsonAndSeveralFilesArePrefixedByBenchmark(@TempDir Path dir) throws Exception {
        GpuResults sink = new GpuResults(new GpuCeilings(3000, 800, 50));
        sink.add("expert_gate_up_mma_v2", "256 tok", 1.0, 1e9, 4e11, true, OptionalDouble.empty());   // compute: 0.5 ms floor
        GpuResults.Report r = new GpuResults.Report("kernels", "NVIDIA H200 (sm_90)", MachineInfo.current(), sink.ceilings(), 30,
                sink.rows(), Map.of());
        Path k = dir.resolve("kernels.json"), o = dir.resolve("ops.json"), png = dir.resolve("sub/perf.png");
        BenchJson.write(k, r);
        Files.writeString(o, OPS);
        PerfChart.Chart c = PerfChart.read(List.of(o, k));
        assertEquals(3, c.bars().size());
        assertEquals(new PerfChart.Bar("kernels: expert_gate_up_mma_v2 @ 256 tok", 0.5, Bound.COMPUTE), c.bars().get(2));
        assertTrue(c.title().endsWith("; bench kernels, " + r.machine().startedAt().substring(0, 10) + ", NVIDIA H200 (sm_90)"), c.title());
        assertEquals(0, Main.run("bench", "chart", "--json", o + "," + k, "--out", png.toString()));
        assertEquals(c.bars().size() * 24 + 140, ImageIO.read(png.toFile()).getHeight());
    }

    @Test
    void filesWithoutRowsAreRejectedByName(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("decode.json");
        Files.writeString(f, "{\"benchmark\": \"decode\", \"reports\": []}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PerfChart.read(List.of(f)));
        assertEquals(f + ": no results[] rows (expected the JSON of `polyv bench ops` or `polyv bench kernels`)", e.getMessage());
        Files.writeString(f, "{\"results\": [{\"name\": \"x\"}]}");
        assertThrows(IllegalArgumentException.class, () -> PerfChart.read(List.of(f)));
    }
}

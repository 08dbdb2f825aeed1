package ai.polyv.cuda;

import ai.polyv.cuda.driver.CudaProbe;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.polyv.core.PolyV;
import ai.polyv.core.api.GoldenCases;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batched decode on the CUDA backend (F32, golden tolerance): the five tiny-a golden cases decoded together
 * (row views of the batch scattered into each session's device KV cache, per-session attention) give exactly
 * the golden greedy ids, five at a time and two at a time. Skipped, with the reason, without a CUDA device.
 */
class CudaBatchDecodeTest {

    @ParameterizedTest
    @ValueSource(ints = {5, 2})
    void batchedRequestsGetTheirGoldenIdsOnCuda(int maxBatch) {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> probe.skipMessage("batched decode on CUDA"));
        Path dir = Path.of(System.getProperty("polyv.shared", "../shared"), "golden", "tiny-a");
        try (PolyV polyv = PolyV.load(dir, CudaBackend.open())) {
            GoldenCases.assertBatchedGreedyIds(polyv, maxBatch);
        }
    }
}

package ai.polyv.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.polyv.core.backend.Backend;
import ai.polyv.core.backend.BackendContract;
import ai.polyv.cuda.driver.CudaProbe;

/** The backend contract on the CUDA backend (fp32): on a device, or on the emulated device where there is none. */
class CudaBackendContractTest extends BackendContract {
    @Override
    protected Backend open() {
        CudaProbe probe = CudaProbe.probe();
        assumeTrue(probe.available(), () -> probe.skipMessage("the backend contract on CUDA"));
        return CudaBackend.open(CudaBackend.Precision.F32);
    }
}

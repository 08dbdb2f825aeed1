package ai.polyv.core.backend;

/** The backend contract on the CPU backend (the reference). */
class CpuBackendContractTest extends BackendContract {
    @Override
    protected Backend open() {
        return Backend.cpu();
    }
}

package ai.polyv.bench.jmh;

import ai.polyv.core.backend.CpuBackend;
import ai.polyv.bench.CpuOpCases;
import ai.polyv.bench.OpCase;
import org.openjdk.jmh.infra.Blackhole;

/** One {@link CpuOpCases} case on a CPU backend of all processors, rotating its input sets call by call. */
final class CaseRunner implements AutoCloseable {
    private final CpuBackend backend = new CpuBackend();
    private final OpCase op;
    private int run;

    CaseRunner(String name) {
        OpCase c;
        try {
            c = CpuOpCases.create(name, backend, CpuOpCases.DEFAULT_ROTATE_BYTES);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        this.op = c;
    }

    void run(Blackhole bh, Traffic traffic) {
        bh.consume(op.run(run++));
        traffic.add(op.info());
    }

    @Override
    public void close() {
        op.close();
        backend.close();
    }
}

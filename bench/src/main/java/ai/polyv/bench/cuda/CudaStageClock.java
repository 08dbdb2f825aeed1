package ai.polyv.bench.cuda;

import ai.polyv.bench.MoeBench;
import ai.polyv.cuda.driver.CudaEvent;
import ai.polyv.cuda.driver.CudaStream;

/**
 * {@link MoeBench.StageClock} on a CUDA stream: each mark records an event, and a stage's time is the
 * elapsed time between two events (it includes the host work in between, such as downloads and the host-side
 * permutation, as the model sees it). Close it to destroy the events.
 */
public final class CudaStageClock implements MoeBench.StageClock, AutoCloseable {
    private final CudaStream stream;
    private final CudaEvent[] events = new CudaEvent[7];

    public CudaStageClock(CudaStream stream) {
        this.stream = stream;
        try {
            for (int i = 0; i < events.length; i++) events[i] = new CudaEvent();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void mark(int i) {
        events[i].record(stream);
    }

    @Override
    public double ms(int a, int b) {
        events[b].synchronize();
        return CudaEvent.elapsedMillis(events[a], events[b]);
    }

    @Override
    public void close() {
        for (CudaEvent e : events) if (e != null) e.close();
    }
}

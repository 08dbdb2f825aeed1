package ai.polyv.cuda.driver;


import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * A captured sequence of work on one stream, replayed by one launch: {@code cuStreamBeginCapture} ->
 * the work -> {@code cuStreamEndCapture} -> {@code cuGraphInstantiate}; {@link #launch} is
 * {@code cuGraphLaunch}. The graph keeps the kernels' arguments as they were at capture: the same
 * device addresses are read and written at every replay, so inputs are refreshed by writing into those
 * tensors between launches. Made by {@code ai.polyv.cuda.CudaBackend.capture}, which forbids the ops that cannot be
 * replayed (device allocation, host copies) while it captures.
 */
public final class CudaGraph implements AutoCloseable {
    private final CUgraph graph;
    private final CUgraphExec exec;
    private boolean closed;

    private CudaGraph(CUgraph graph, CUgraphExec exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /** Captures what {@code work} enqueues on {@code stream}; on any failure the capture is ended and discarded. */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        CudaException.check(JCudaDriver.cuStreamBeginCapture(stream.cu(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
        CUgraph graph = new CUgraph();
        try {
            work.run();
        } catch (RuntimeException e) {
            int r = JCudaDriver.cuStreamEndCapture(stream.cu(), graph);   // leaves the stream usable again
            if (r == 0) JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        CudaException.check(JCudaDriver.cuStreamEndCapture(stream.cu(), graph), "cuStreamEndCapture");
        CUgraphExec exec = new CUgraphExec();
        int r = JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        if (r != 0) {
            JCudaDriver.cuGraphDestroy(graph);
            CudaException.check(r, "cuGraphInstantiate");
        }
        return new CudaGraph(graph, exec);
    }

    /** Enqueues one replay on {@code stream}. */
    public void launch(CudaStream stream) {
        if (closed) throw new IllegalStateException("CUDA graph is closed");
        CudaException.check(JCudaDriver.cuGraphLaunch(exec, stream.cu()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuGraphExecDestroy(exec), "cuGraphExecDestroy");
        CudaException.check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
    }
}

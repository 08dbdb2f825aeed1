package ai.polyv.cuda.driver;

import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/** A loaded module (fatbin, cubin or PTX image) and its kernels by name. */
public final class CudaModule implements AutoCloseable {
    private final String name;
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private boolean closed;

    /** Loads an image; PTX text must end with a NUL byte. */
    public CudaModule(String name, byte[] image) {
        this.name = name;
        CudaException.check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData(" + name + ")");
    }

    public String name() {
        return name;
    }

    /** The {@code extern "C"} kernel {@code kernel}; fails naming the module when it is not there. */
    public synchronized CUfunction function(String kernel) {
        return functions.computeIfAbsent(kernel, k -> {
            CUfunction f = new CUfunction();
            CudaException.check(JCudaDriver.cuModuleGetFunction(f, module, k), "cuModuleGetFunction(" + name + ", " + k + ")");
            return f;
        });
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CudaException.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload(" + name + ")");
    }
}

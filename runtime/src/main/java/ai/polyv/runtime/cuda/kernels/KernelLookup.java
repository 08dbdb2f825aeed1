package ai.polyv.runtime.cuda.kernels;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/** Finds a kernel by its {@code extern "C"} name, e.g. in a module loaded from a fatbin. */
@FunctionalInterface
public interface KernelLookup {

    CUfunction function(String name);

    /** Lookup through {@code cuModuleGetFunction} in one loaded module. */
    static KernelLookup of(CUmodule module) {
        return name -> {
            CUfunction f = new CUfunction();
            JCudaDriver.cuModuleGetFunction(f, module, name);
            return f;
        };
    }
}

package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.KernelLibrary;
import jcuda.driver.CUfunction;

/** Finds a kernel by its {@code extern "C"} name, e.g. in a module of the {@link KernelLibrary}. */
@FunctionalInterface
public interface KernelLookup {

    CUfunction function(String name);

    /**
     * The kernels of {@code op} ({@code kernels/src/main/cuda/<op>.cu}) in the backend's one module loader:
     * the module is loaded (fatbin, else NVRTC) on the first lookup and every failure names the module and kernel.
     */
    static KernelLookup of(KernelLibrary library, String op) {
        return name -> library.module(op).function(name);
    }
}

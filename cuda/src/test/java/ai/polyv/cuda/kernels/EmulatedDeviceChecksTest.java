package ai.polyv.cuda.kernels;

import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaException;
import ai.polyv.cuda.driver.CudaModule;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.driver.CudaStream;
import ai.polyv.testsupport.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static ai.polyv.loader.safetensors.DType.F32;
import static ai.polyv.loader.safetensors.DType.I32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every check of the emulated device bites through the whole stack (JCuda, the stand-in driver, the
 * kernel emulator): a deliberately broken test-only kernel (kernels/emu/test/broken_kernels.cu) is
 * launched with {@link Launch} as the backend launches, and the failure comes back where a real driver
 * would put it - a launch-configuration error from cuLaunchKernel at once, a fault at the next
 * synchronisation, sticky for the context - with the emulator's message naming the kernel on stderr.
 * Each case runs in a child JVM, because a sticky fault poisons that JVM's context for every later test.
 * (kernels/emu/test/emu_selftest.cpp, run by the build, checks the same kernels and the good ones below the driver.)
 */
class EmulatedDeviceChecksTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "emu_test_missing_sync,     64,  CUDA_ERROR_LAUNCH_FAILED,          shared memory",   // a race or an unwritten read, by thread order
        "emu_test_shared_race,      64,  CUDA_ERROR_LAUNCH_FAILED,          race",
        "emu_test_uninit_shared,    64,  CUDA_ERROR_LAUNCH_FAILED,          never written",
        "emu_test_oob_write,        64,  CUDA_ERROR_ILLEGAL_ADDRESS,        illegal address",
        "emu_test_oob_read,         64,  CUDA_ERROR_ILLEGAL_ADDRESS,        illegal address",
        "emu_test_partial_shuffle,  32,  CUDA_ERROR_LAUNCH_FAILED,          emu_test_partial_shuffle",
        "emu_test_divergent_sync,   64,  CUDA_ERROR_LAUNCH_FAILED,          emu_test_divergent_sync",
        "emu_test_ldmatrix_bad_rows, 32, CUDA_ERROR_LAUNCH_FAILED,          never written",
        "emu_test_cp_async_no_wait, 32,  CUDA_ERROR_LAUNCH_FAILED,          cp.async",
        "emu_test_launch_bounds,    256, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, launch_bounds",
    })
    void aBrokenKernelIsReported(String kernel, int threads, String expectedError, String messagePart) throws Exception {
        assumeTrue(CudaProbe.probe().emulated(), () -> "the broken test kernels exist on the emulated device only; " + CudaProbe.probe().reason());
        List<String> cmd = ChildJvm.command(List.of("--add-modules", "jdk.incubator.vector", "-Dpolyv.cuda=emulated"),
                Child.class.getName(), kernel, Integer.toString(threads));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("result " + expectedError + "\n"), "expected " + expectedError + ", got:\n" + out);
        assertTrue(out.contains(messagePart), "the emulator's message names the problem (" + messagePart + "):\n" + out);
        assertTrue(out.contains(kernel), "the message names the kernel:\n" + out);
        if (expectedError.equals("CUDA_ERROR_ILLEGAL_ADDRESS")) {
            assertTrue(out.contains("after the fault cuMemAlloc: CUDA_ERROR_ILLEGAL_ADDRESS"), "the fault is sticky:\n" + out);
        }
    }

    /** 256 bytes straight from cuMemAlloc (the pool's smallest class: no rounding, nothing behind it). */
    private static long exact(ai.polyv.cuda.driver.DeviceMemoryPool pool) {
        return pool.allocate(256).address();
    }

    /** Launches one broken kernel on one 64-element buffer per pointer argument and prints what came back. */
    public static final class Child {
        public static void main(String[] args) {
            String kernel = args[0];
            int threads = Integer.parseInt(args[1]);
            try (CudaContext ctx = CudaContext.open(0); CudaStream stream = new CudaStream();
                 CudaModule module = new CudaModule("emu_test", "broken test kernels".getBytes(StandardCharsets.US_ASCII));
                 DeviceArena arena = new DeviceArena();
                 ai.polyv.cuda.driver.DeviceMemoryPool pool = ai.polyv.cuda.driver.DeviceMemoryPool.forCurrentContext()) {
                DeviceTensor f = arena.upload("x", new float[256], 256), o = arena.alloc("out", F32, 64);
                DeviceTensor i = arena.upload("xi", new int[64], 64), oi = arena.alloc("outi", I32, 64);
                DeviceTensor bf = arena.uploadBf16("a", new float[17 * 16], 17 * 16), ou = arena.alloc("regs", I32, 32, 4);
                Object[] kernelArgs = switch (kernel) {
                    case "emu_test_missing_sync" -> new Object[] {f, o};
                    case "emu_test_shared_race", "emu_test_uninit_shared", "emu_test_divergent_sync", "emu_test_launch_bounds" -> new Object[] {o};
                    // exactly 64 floats from the driver (a DeviceArena tensor has guard bytes behind it, inside its allocation)
                    case "emu_test_oob_write" -> new Object[] {exact(pool), 64};
                    case "emu_test_oob_read" -> new Object[] {exact(pool), o, 64};
                    case "emu_test_partial_shuffle" -> new Object[] {i, oi};
                    case "emu_test_ldmatrix_bad_rows" -> new Object[] {bf, 0, ou};
                    case "emu_test_cp_async_no_wait" -> new Object[] {bf, o};
                    default -> throw new IllegalArgumentException(kernel);
                };
                String result;
                try {
                    Launch.run(module.function(kernel), kernel, new Launch.Dims(1, 1, 1, threads, 0), stream.cu(), kernelArgs);
                    stream.synchronize();
                    result = "CUDA_SUCCESS";
                } catch (CudaException e) {
                    result = CUresult.stringFor(e.code());
                    System.out.println("exception " + e.getMessage());
                }
                System.out.println("result " + result);
                jcuda.driver.CUdeviceptr ptr = new jcuda.driver.CUdeviceptr();
                System.out.println("after the fault cuMemAlloc: " + CUresult.stringFor(JCudaDriver.cuMemAlloc(ptr, 256)));
                System.out.flush();
                Runtime.getRuntime().halt(0);   // a poisoned context cannot be closed cleanly; nothing to release
            }
        }
    }
}

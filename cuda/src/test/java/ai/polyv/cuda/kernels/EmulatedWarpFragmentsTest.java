package ai.polyv.cuda.kernels;

import static ai.polyv.loader.safetensors.DType.F32;
import static ai.polyv.loader.safetensors.DType.I32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.polyv.cuda.driver.CudaContext;
import ai.polyv.cuda.driver.CudaModule;
import ai.polyv.cuda.driver.CudaProbe;
import ai.polyv.cuda.driver.CudaStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The two statements of the PTX fragment layouts agree: {@link WarpEmulator} (the host model the kernel
 * index tests use) and the emulated device's ldmatrix / mma.sync (kernels/emu), run through the real
 * helpers of polyv_mma.cuh in the test-only kernels {@code emu_test_ldmatrix} and {@code emu_test_mma_tile}
 * (kernels/emu/test/good_kernels.cu). Values are small integers, so every product and sum is exact and the
 * two must agree bit for bit. Runs on the emulated device only (the test kernels are not in the fatbins).
 */
class EmulatedWarpFragmentsTest {

    private static CudaContext ctx;
    private static CudaStream stream;
    private static CudaModule module;

    @BeforeAll
    static void open() {
        CudaProbe p = CudaProbe.probe();
        if (!p.emulated()) return;
        ctx = CudaContext.open(0);
        stream = new CudaStream();
        module = new CudaModule("emu_test", "emulated test kernels".getBytes(StandardCharsets.US_ASCII));
    }

    @AfterAll
    static void close() {
        if (module != null) module.close();
        if (stream != null) stream.close();
        if (ctx != null) ctx.close();
    }

    private static void requireEmulated() {
        assumeTrue(module != null, "the fragment-layout agreement runs on the emulated device only (its test kernels); "
                + CudaProbe.probe().reason());
    }

    /** A 16x16 tile of small integers (exact in bf16), row-major. */
    private static float[] tile(Random r, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int i = 0; i < t.length; i++) t[i] = r.nextInt(9) - 4;
        return t;
    }

    private static float lo(int reg) {
        return Float.intBitsToFloat((reg & 0xFFFF) << 16);
    }

    private static float hi(int reg) {
        return Float.intBitsToFloat(reg & 0xFFFF0000);
    }

    @Test
    void ldmatrixAgreesWithTheWarpEmulatorPlainAndTransposed() {
        requireEmulated();
        float[] a = tile(new Random(1), 16, 16);
        int[] laneOffset = new int[32];
        for (int l = 0; l < 32; l++) laneOffset[l] = (l & 15) * 16 + (l >> 4) * 8;   // as the kernel addresses
        for (int trans = 0; trans < 2; trans++) {
            float[][][] want = WarpEmulator.ldmatrixX4(a, laneOffset, trans == 1);
            int[] got;
            try (DeviceArena arena = new DeviceArena()) {
                DeviceTensor da = arena.uploadBf16("a", a, 16, 16), out = arena.alloc("out", I32, 32, 4);
                Launch.run(module.function("emu_test_ldmatrix"), "emu_test_ldmatrix", new Launch.Dims(1, 1, 1, 32, 0), stream.cu(),
                        da, trans, out);
                stream.synchronize();
                got = DeviceArena.downloadI32(out);
            }
            for (int l = 0; l < 32; l++) {
                for (int m = 0; m < 4; m++) {
                    String where = (trans == 1 ? "ldmatrix.trans" : "ldmatrix") + " lane " + l + " register " + m;
                    assertEquals(want[l][m][0], lo(got[l * 4 + m]), where + " low half");
                    assertEquals(want[l][m][1], hi(got[l * 4 + m]), where + " high half");
                }
            }
        }
    }

    @Test
    void mmaTileAgreesWithTheWarpEmulator() {
        requireEmulated();
        Random r = new Random(2);
        float[] a = tile(r, 16, 16), b = tile(r, 8, 16);   // b: row n holds column n of B (k contiguous)
        int[] aOffset = new int[32], bOffset = new int[32];
        for (int l = 0; l < 32; l++) {
            aOffset[l] = (l & 15) * 16 + (l >> 4) * 8;
            bOffset[l] = (l & 7) * 16 + ((l >> 3) & 1) * 8;
        }
        float[][][] af = WarpEmulator.ldmatrixX4(a, aOffset, false);
        float[][][] bf = WarpEmulator.pick(WarpEmulator.ldmatrixX4(b, bOffset, false), 0, 1);
        float[][] c = new float[32][4];
        WarpEmulator.mma16816(c, af, bf);
        float[] got;
        try (DeviceArena arena = new DeviceArena()) {
            DeviceTensor da = arena.uploadBf16("a", a, 16, 16), db = arena.uploadBf16("b", b, 8, 16), dc = arena.alloc("c", F32, 16, 8);
            Launch.run(module.function("emu_test_mma_tile"), "emu_test_mma_tile", new Launch.Dims(1, 1, 1, 32, 0), stream.cu(), da, db, dc);
            stream.synchronize();
            got = DeviceArena.downloadF32(dc);
        }
        for (int l = 0; l < 32; l++) {
            int g = l / 4, t = l % 4;
            int[] at = {g * 8 + 2 * t, g * 8 + 2 * t + 1, (g + 8) * 8 + 2 * t, (g + 8) * 8 + 2 * t + 1};
            for (int q = 0; q < 4; q++) assertEquals(c[l][q], got[at[q]], "mma lane " + l + " accumulator " + q);
        }
        // and both are the plain product a . b^T
        for (int i = 0; i < 16; i++) {
            for (int n = 0; n < 8; n++) {
                float s = 0;
                for (int k = 0; k < 16; k++) s += a[i * 16 + k] * b[n * 16 + k];
                assertEquals(s, got[i * 8 + n], "c[" + i + "][" + n + "]");
            }
        }
    }
}

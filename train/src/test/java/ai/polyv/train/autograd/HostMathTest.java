package ai.polyv.train.autograd;

import static ai.polyv.train.autograd.GradientCheck.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.cpu.CpuThreads;
import ai.polyv.core.cpu.ScalarKernels;
import ai.polyv.core.cpu.WeightFormat;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The three matrix products of a linear layer on the tape ({@link HostMath}: x.W^T, dY.W, dY^T.X) against the
 * double-sum reference {@link ScalarKernels} on awkward shapes, for a host F32 weight and a frozen BF16
 * tensor in native memory (a stand-in for a mapped checkpoint), serial and on a pool: the pool gives the
 * same bits as the serial tape.
 */
class HostMathTest {

    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    // [n, k, m]: x [n, k], W [m, k]. n = 1, k off the vector length, odd m, and sizes across the GEMM paths
    // (GEMV, the dot-product GEMM below 2 vectors of rows, the outer-product GEMM above)
    private static final int[][] SHAPES = {
            {1, 1, 1}, {1, L + 3, 7}, {1, 3 * L - 1, 33}, {2, 5, 3}, {3, L + 1, 65}, {7, 2 * L + 5, 9},
            {2 * L + 1, 2 * L + 7, 31}, {2 * L, 3 * L, 2 * L + 1}, {67, 97, 129}, {130, 17, 301},
    };

    @Test
    void forwardAndBothBackwardProductsMatchTheReference() {
        Random rnd = new Random(31);
        try (Arena arena = Arena.ofShared(); CpuThreads pool = new CpuThreads(3)) {
            for (int[] s : SHAPES) {
                int n = s[0], k = s[1], m = s[2];
                float[] x = random(rnd, n * k, 1), wv = random(rnd, m * k, 0.5), bias = random(rnd, m, 0.5);
                float[] dy = random(rnd, n * m, 1), dx0 = random(rnd, n * k, 1), dw0 = random(rnd, m * k, 1);
                MemorySegment bf16 = arena.allocate(2L * m * k);
                for (int i = 0; i < m * k; i++) WeightFormat.BF16.set(bf16, i, wv[i]);
                Weight host = new Weight.Host(Var.constant(wv, m, k));
                Weight frozen = new Weight.Frozen(new Tensor(DType.BF16, bf16, m, k));
                for (Weight w : new Weight[] {host, frozen}) {
                    String what = w.format() + " n=" + n + " k=" + k + " m=" + m;
                    MemorySegment ws = w.segment();
                    float[][] serial = null;
                    for (CpuThreads t : new CpuThreads[] {null, pool}) {
                        float[] y = new float[n * m], dx = dx0.clone(), dw = dw0.clone();
                        HostMath.matmulNT(t, x, n, k, w, bias, y);
                        HostMath.matmulNN(t, dy, n, w, dx);
                        HostMath.matmulTN(t, dy, n, m, x, k, dw);
                        if (serial == null) {
                            serial = new float[][] {y, dx, dw};
                            float[] yWant = new float[n * m], dxWant = dx0.clone(), dwWant = dw0.clone();
                            ScalarKernels.matmul(null, seg(x), n, k, ws, w.format(), m, seg(bias), seg(yWant));
                            ScalarKernels.matmulNN(null, seg(dy), n, m, ws, w.format(), k, seg(dxWant));
                            ScalarKernels.matmulTN(null, seg(dy), n, m, seg(x), k, seg(dwWant));
                            assertClose("x.W^T " + what, y, yWant, k);
                            assertClose("dY.W " + what, dx, dxWant, m);
                            assertClose("dY^T.X " + what, dw, dwWant, n);
                        } else {
                            assertArrayEquals(serial[0], y, "x.W^T pool vs serial " + what);
                            assertArrayEquals(serial[1], dx, "dY.W pool vs serial " + what);
                            assertArrayEquals(serial[2], dw, "dY^T.X pool vs serial " + what);
                        }
                    }
                }
            }
        }
    }

    private static MemorySegment seg(float[] a) {
        return MemorySegment.ofArray(a);
    }

    /** float32 sums of {@code terms} products vs the double-sum reference: within ~sqrt(terms) ulp of O(1) values. */
    private static void assertClose(String what, float[] got, float[] want, int terms) {
        double atol = 2e-6 * Math.sqrt(terms), rtol = 1e-5;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            assertTrue(d <= atol + rtol * Math.abs(want[i]),
                    what + ": element " + i + " = " + got[i] + ", reference " + want[i] + " (atol " + atol + ")");
        }
    }
}

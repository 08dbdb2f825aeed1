package ai.polyv.train.autograd;

import static ai.polyv.train.autograd.GradientCheck.random;
import static ai.polyv.train.autograd.GradientCheck.worstError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.cpu.CpuThreads;
import ai.polyv.core.model.RopeTables;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A finite-difference check of every backward rule of {@link Op} (see {@link GradientCheck} for the threshold). */
class OpGradientTest {
    static final double TOL = 2e-3;

    private static Var trainable(Random rnd, int rows, int cols, double scale) {
        return Var.trainable(random(rnd, rows * cols, scale), rows, cols);
    }

    private static void assertGrad(String what, double err) {
        System.out.printf("finite-difference check %-24s relative L2 %.2e%n", what, err);
        assertTrue(err <= TOL, what + ": relative L2 error of the backward rule vs finite differences " + err + " > " + TOL);
    }

    @Test
    void linearWithBiasAndTrainableWeight() {
        Random rnd = new Random(1);
        Var x = trainable(rnd, 5, 7, 1), w = trainable(rnd, 3, 7, 0.5), b = trainable(rnd, 1, 3, 0.5);
        assertGrad("linear", worstError(rnd, t -> t.linear(x, new Weight.Host(w), b), x, w, b));
    }

    @Test
    void linearThroughFrozenF32AndBf16TensorsGivesInputGradientsOnly() {
        Random rnd = new Random(2);
        float[] wv = random(rnd, 4 * 6, 0.5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = arena.allocate(4L * wv.length);
            MemorySegment bf16 = arena.allocate(2L * wv.length);
            for (int i = 0; i < wv.length; i++) {
                f32.setAtIndex(ValueLayout.JAVA_FLOAT, i, wv[i]);
                bf16.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToIntBits(wv[i]) >>> 16));
            }
            for (Tensor t : new Tensor[] {new Tensor(DType.F32, f32, 4, 6), new Tensor(DType.BF16, bf16, 4, 6)}) {
                Var x = trainable(rnd, 3, 6, 1);
                assertGrad("linear frozen " + t, worstError(rnd, tp -> tp.linear(x, new Weight.Frozen(t), null), x));
            }
            // the F32 frozen weight gives the same output as the host copy of the same values
            Var x = Var.constant(random(rnd, 2 * 6, 1), 2, 6);
            Tape tape = new Tape(null);
            assertArrayEquals(tape.linear(x, new Weight.Host(Var.constant(wv, 4, 6)), null).value(),
                    tape.linear(x, new Weight.Frozen(new Tensor(DType.F32, f32, 4, 6)), null).value());
        }
    }

    @Test
    void linearIsTheSameSerialAndOnAPool() {
        Random rnd = new Random(3);
        Var x = trainable(rnd, 9, 130, 1), w = trainable(rnd, 70, 130, 0.1);
        float[] seed = random(rnd, 9 * 70, 1);
        float[][] serial = run(null, x, w, seed);
        try (CpuThreads pool = new CpuThreads(3)) {
            float[][] par = run(pool, x, w, seed);
            for (int i = 0; i < 3; i++) assertArrayEquals(serial[i], par[i]);
        }
    }

    private static float[][] run(CpuThreads pool, Var x, Var w, float[] seed) {
        java.util.Arrays.fill(x.grad(), 0f);
        java.util.Arrays.fill(w.grad(), 0f);
        Tape t = new Tape(pool);
        Var y = t.linear(x, new Weight.Host(w), null);
        t.backward(y, seed);
        return new float[][] {y.value().clone(), x.grad().clone(), w.grad().clone()};
    }

    @Test
    void rmsNorm() {
        Random rnd = new Random(4);
        Var x = trainable(rnd, 4, 8, 1);
        float[] w = random(rnd, 8, 1);
        assertGrad("rmsNorm", worstError(rnd, t -> t.rmsNorm(x, w, 1e-6f), x));
    }

    @Test
    void mropeRotateHalf() {
        Random rnd = new Random(5);
        int n = 5, heads = 2, hd = 8;
        long[][] pos = new long[3][n];
        for (int a = 0; a < 3; a++) for (int i = 0; i < n; i++) pos[a][i] = rnd.nextInt(40);
        float[] cos = new float[n * hd], sin = new float[n * hd];
        RopeTables.mrope(pos, 0, n, 10000.0, new int[] {1, 2, 1}, hd, cos, sin);
        Var x = trainable(rnd, n, heads * hd, 1);
        assertGrad("rope", worstError(rnd, t -> t.rope(x, heads, cos, sin), x));
        // the rule is the rotation by the opposite angle: backward of g equals forward of g with -sin
        float[] g = random(rnd, n * heads * hd, 1), negSin = sin.clone();
        for (int i = 0; i < negSin.length; i++) negSin[i] = -negSin[i];
        java.util.Arrays.fill(x.grad(), 0f);
        Tape tape = new Tape(null);
        tape.backward(tape.rope(x, heads, cos, sin), g);
        float[] rotated = new Tape(null).rope(Var.constant(g, n, heads * hd), heads, cos, negSin).value();
        for (int i = 0; i < g.length; i++) assertEquals(rotated[i], x.grad()[i], 1e-6f);
    }

    @Test
    void groupedQueryCausalAttention() {
        Random rnd = new Random(6);
        int n = 6, heads = 4, kv = 2, hd = 4;
        Var q = trainable(rnd, n, heads * hd, 1), k = trainable(rnd, n, kv * hd, 1), v = trainable(rnd, n, kv * hd, 1);
        assertGrad("attention", worstError(rnd, t -> t.attention(q, k, v, heads, kv), q, k, v));
        // causality: output row 0 is exactly value row 0 of its kv head
        Var o = new Tape(null).attention(q, k, v, heads, kv);
        for (int h = 0; h < heads; h++) for (int d = 0; d < hd; d++) assertEquals(v.value()[(h / 2) * hd + d], o.value()[h * hd + d], 1e-6f);
    }

    @Test
    void siluGeluSwiglu() {
        Random rnd = new Random(7);
        Var x = trainable(rnd, 3, 5, 2), g = trainable(rnd, 3, 5, 2), u = trainable(rnd, 3, 5, 1);
        assertGrad("silu", worstError(rnd, t -> t.silu(x), x));
        assertGrad("gelu", worstError(rnd, t -> t.gelu(x), x));
        assertGrad("swiglu", worstError(rnd, t -> t.swiglu(g, u), g, u));
        // GELU(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447
        assertEquals(0.8413447f, new Tape(null).gelu(Var.constant(new float[] {1f}, 1, 1)).value()[0], 1e-6f);
    }

    @Test
    void residualAddAndGatherRowsWithRepeats() {
        Random rnd = new Random(8);
        Var a = trainable(rnd, 4, 3, 1), b = trainable(rnd, 4, 3, 1);
        assertGrad("add", worstError(rnd, t -> t.add(a, b), a, b));
        assertGrad("gatherRows", worstError(rnd, t -> t.gatherRows(a, new int[] {2, 0, 2, 3}), a));
    }

    @Test
    void embeddingAndPlaceholderReplacement() {
        Random rnd = new Random(19);
        Var table = trainable(rnd, 6, 3, 1), x = trainable(rnd, 5, 3, 1), rows = trainable(rnd, 2, 3, 1);
        int[] ids = {4, 1, 4, 0};
        assertGrad("embedding", worstError(rnd, t -> t.embedding(new Weight.Host(table), ids), table));
        assertGrad("replaceRows", worstError(rnd, t -> t.replaceRows(x, rows, new int[] {3, 1}), x, rows));
        Var y = new Tape(null).replaceRows(x, rows, new int[] {3, 1});
        assertEquals(rows.value()[0], y.value()[9]);
        assertEquals(x.value()[0], y.value()[0]);
    }

    @Test
    void softmax() {
        Random rnd = new Random(9);
        Var x = trainable(rnd, 3, 6, 1.5);
        assertGrad("softmax", worstError(rnd, t -> t.softmax(x), x));
    }

    /** Probabilities with gaps of at least 0.1 between the chosen and the rest (FD steps do not change the choice). */
    private static Var separatedProbabilities() {
        float[] p = {
            0.5f, 0.05f, 0.3f, 0.15f,
            0.1f, 0.6f, 0.05f, 0.25f,
            0.2f, 0.2f, 0.45f, 0.15f};   // row 2: tie 0.2/0.2 for the second slot -> lower index (expert 0)
        return Var.trainable(p, 3, 4);
    }

    @Test
    void topKWithoutAndWithRenormalisation() {
        Random rnd = new Random(10);
        Var p = separatedProbabilities();
        Tape.Routing r = new Tape(null).topK(p, 2, false);
        assertArrayEquals(new int[] {0, 2, 1, 3, 2, 0}, r.ids());
        assertArrayEquals(new float[] {0.5f, 0.3f, 0.6f, 0.25f, 0.45f, 0.2f}, r.weights().value());
        Var q = Var.trainable(new float[] {0.5f, 0.05f, 0.3f, 0.15f, 0.1f, 0.6f, 0.05f, 0.25f}, 2, 4);
        assertGrad("topK", worstError(rnd, t -> t.topK(q, 2, false).weights(), q));
        assertGrad("topK renormalised", worstError(rnd, t -> t.topK(q, 2, true).weights(), q));
        Tape.Routing rn = new Tape(null).topK(q, 2, true);
        assertEquals(0.5f / 0.8f, rn.weights().value()[0], 1e-7f);
    }

    @Test
    void moeWeightedCombine() {
        Random rnd = new Random(11);
        int n = 4, k = 2, d = 3;
        // expert 0: tokens 0, 2 (slots 0, 1); expert 1: none; expert 2: tokens 0, 1, 3
        int[][] tokens = {{0, 2}, {}, {0, 1, 3}, {1, 2, 3}};
        int[][] slots = {{0, 1}, {}, {1, 0, 1}, {1, 0, 0}};
        Var w = trainable(rnd, n, k, 1);
        Var e0 = trainable(rnd, 2, d, 1), e2 = trainable(rnd, 3, d, 1), e3 = trainable(rnd, 3, d, 1);
        assertGrad("moeCombine", worstError(rnd, t -> t.moeCombine(new Var[] {e0, null, e2, e3}, tokens, slots, w, d), w, e0, e2, e3));
    }

    @Test
    void moeBlockEndToEnd() {
        // router linear -> softmax -> top-2 -> dispatch -> SwiGLU experts -> combine, d(out)/d(router, x, experts)
        Random rnd = new Random(12);
        int n = 5, d = 4, m = 3, inter = 6;
        Var x = trainable(rnd, n, d, 1), router = trainable(rnd, m, d, 1.5);
        Var[] gate = new Var[m], up = new Var[m], down = new Var[m];
        for (int e = 0; e < m; e++) {
            gate[e] = trainable(rnd, inter, d, 0.5);
            up[e] = trainable(rnd, inter, d, 0.5);
            down[e] = trainable(rnd, d, inter, 0.5);
        }
        java.util.function.Function<Tape, Var> block = t -> {
            Var p = t.softmax(t.linear(x, new Weight.Host(router), null));
            Tape.Routing r = t.topK(p, 2, false);
            Var[] outs = new Var[m];
            int[][] tokens = new int[m][], slots = new int[m][];
            for (int e = 0; e < m; e++) {
                java.util.List<Integer> ts = new java.util.ArrayList<>(), ss = new java.util.ArrayList<>();
                for (int i = 0; i < n * 2; i++) if (r.ids()[i] == e) { ts.add(i / 2); ss.add(i % 2); }
                tokens[e] = ts.stream().mapToInt(Integer::intValue).toArray();
                slots[e] = ss.stream().mapToInt(Integer::intValue).toArray();
                if (tokens[e].length == 0) continue;
                Var xe = t.gatherRows(x, tokens[e]);
                outs[e] = t.linear(t.swiglu(t.linear(xe, new Weight.Host(gate[e]), null), t.linear(xe, new Weight.Host(up[e]), null)),
                        new Weight.Host(down[e]), null);
            }
            return t.moeCombine(outs, tokens, slots, r.weights(), d);
        };
        Var[] all = new Var[2 + 3 * m];
        all[0] = x;
        all[1] = router;
        for (int e = 0; e < m; e++) {
            all[2 + 3 * e] = gate[e];
            all[3 + 3 * e] = up[e];
            all[4 + 3 * e] = down[e];
        }
        // the routing must not sit on a tie for FD steps of 1e-2: check the chosen experts are stable
        int[] ids = routeIds(x, router);
        for (Var v : new Var[] {x, router}) {
            for (int i = 0; i < v.value().length; i++) {
                float keep = v.value()[i];
                v.value()[i] = keep + (float) GradientCheck.H;
                int[] up1 = routeIds(x, router);
                v.value()[i] = keep - (float) GradientCheck.H;
                int[] dn1 = routeIds(x, router);
                v.value()[i] = keep;
                assertArrayEquals(ids, up1, "routing changes under the FD step: pick another seed");
                assertArrayEquals(ids, dn1, "routing changes under the FD step: pick another seed");
            }
        }
        assertGrad("moe block", worstError(rnd, block, all));
    }

    private static int[] routeIds(Var x, Var router) {
        Tape t = new Tape(null);
        return t.topK(t.softmax(t.linear(x, new Weight.Host(router), null)), 2, false).ids();
    }

    @Test
    void crossEntropyWithIgnoredRows() {
        Random rnd = new Random(13);
        Var logits = trainable(rnd, 4, 7, 2);
        int[] target = {3, -1, 0, 6};
        assertGrad("crossEntropy", worstError(rnd, t -> t.crossEntropy(logits, target), logits));
        // hand value: uniform logits over 7 classes -> log 7, ignored rows do not count
        Var flat = Var.constant(new float[14], 2, 7);
        Var ce = new Tape(null).crossEntropy(flat, new int[] {2, -1});
        assertEquals(Math.log(7), ce.scalar(), 1e-6);
    }

    @Test
    void meanSquaredError() {
        Random rnd = new Random(14);
        Var a = trainable(rnd, 3, 4, 1);
        float[] target = random(rnd, 12, 1);
        assertGrad("mse", worstError(rnd, t -> t.mse(a, target), a));
        Var two = Var.constant(new float[] {1f, 3f}, 1, 2);
        assertEquals(2.5, new Tape(null).mse(two, new float[] {0f, 1f}).scalar(), 1e-7);  // (1 + 4) / 2
    }

    @Test
    void loadBalancingLossGradientReachesGOnly() {
        Random rnd = new Random(15);
        Var p = separatedProbabilities();
        // argmax experts 0, 1, 2 -> F = (1/3, 1/3, 1/3, 0); G = column means; L = 4 * sum F*G
        Var l = new Tape(null).loadBalance(p);
        double g0 = (0.5 + 0.1 + 0.2) / 3, g1 = (0.05 + 0.6 + 0.2) / 3, g2 = (0.3 + 0.05 + 0.45) / 3;
        assertEquals(4 * (g0 + g1 + g2) / 3, l.scalar(), 1e-6);
        assertGrad("loadBalance", worstError(rnd, t -> t.loadBalance(p), p));
        // the gradient of column 3 (F_3 = 0) is zero: F gets no gradient, only G does
        java.util.Arrays.fill(p.grad(), 0f);
        Tape tape = new Tape(null);
        tape.backward(tape.loadBalance(p));
        for (int t = 0; t < 3; t++) assertEquals(0f, p.grad()[t * 4 + 3]);
        assertEquals(4f / 3 / 3, p.grad()[0], 1e-7f);
    }

    @Test
    void weightedSum() {
        Random rnd = new Random(16);
        Var a = trainable(rnd, 1, 1, 1), b = trainable(rnd, 1, 1, 1);
        assertGrad("weightedSum", worstError(rnd, t -> t.weightedSum(new Var[] {a, b}, new double[] {1.0, 0.01}), a, b));
    }

    @Test
    void constantsAreNotRecordedAndGetNoGradient() {
        Random rnd = new Random(17);
        Var c = Var.constant(random(rnd, 6, 1), 2, 3);
        Tape t = new Tape(null);
        Var y = t.gelu(t.add(c, c));
        assertEquals(0, t.size());
        assertNull(y.grad());
        Var w = trainable(rnd, 2, 3, 1);
        Var z = t.linear(y, new Weight.Host(w), null);
        assertEquals(1, t.size());
        t.backward(t.mse(z, new float[4]));
        assertNotEquals(0f, w.grad()[0]);
    }

    @Test
    void aTapeRefusesInputsNoRuleProducedAndASecondBackward() {
        Random rnd = new Random(18);
        Var x = trainable(rnd, 2, 3, 1);
        Tape other = new Tape(null);
        Var foreign = other.silu(x);                          // produced on another tape
        Tape t = new Tape(null);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.silu(foreign));
        assertTrue(e.getMessage().contains("no backward rule"), e.getMessage());
        Var loss = t.mse(t.silu(x), new float[6]);
        t.backward(loss);
        assertThrows(IllegalStateException.class, () -> t.backward(loss));
        assertThrows(IllegalStateException.class, () -> t.silu(x));
    }
}

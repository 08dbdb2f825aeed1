package ai.polyv.core.model;

/**
 * The load-balancing statistics of one MoE layer (docs/spec.md §2, eq. 9-10) and its auxiliary loss
 * {@code L_aux = M * sum_i F_i * G_i}, with F_i = fraction of tokens whose argmax expert is i (the
 * router's top-1, ties to the lower index) and G_i = mean over tokens of p_i.
 *
 * @param tokens     number of token rows
 * @param probSums   {@code [M]} sum over tokens of p_i (= tokens * G_i); the CUDA router writes these
 * @param top1Counts {@code [M]} tokens whose argmax is i (= tokens * F_i)
 */
public record LoadBalance(int tokens, double[] probSums, long[] top1Counts) {

    public LoadBalance {
        if (probSums.length != top1Counts.length) throw new IllegalArgumentException("probSums and top1Counts differ in length");
        probSums = probSums.clone();
        top1Counts = top1Counts.clone();
    }

    /** From a routing: p = softmax(logits) in float32 as the router computes it, argmax = {@code ids[t, 0]}. */
    public static LoadBalance of(MoeRouter.Routing r) {
        int n = r.n(), m = r.numExperts();
        double[] sums = new double[m];
        long[] counts = new long[m];
        float[] p = new float[m];
        for (int t = 0; t < n; t++) {
            softmaxRow(r.logits(), t * m, m, p);
            for (int e = 0; e < m; e++) sums[e] += p[e];
            counts[r.ids()[t * r.k()]]++;
        }
        return new LoadBalance(n, sums, counts);
    }

    /** {@code p[0..m) = softmax(logits[off .. off+m))} in float32: max, exp, sum, divide (as the CPU router, {@code cpu.SoftmaxTopK.row}). */
    static void softmaxRow(float[] logits, int off, int m, float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < m; e++) max = Math.max(max, logits[off + e]);
        float sum = 0f;
        for (int e = 0; e < m; e++) {
            p[e] = (float) Math.exp(logits[off + e] - max);
            sum += p[e];
        }
        for (int e = 0; e < m; e++) p[e] /= sum;
    }

    public int numExperts() {
        return probSums.length;
    }

    /** {@code [M]} F_i. */
    public double[] fractionTop1() {
        double[] f = new double[top1Counts.length];
        for (int e = 0; e < f.length; e++) f[e] = (double) top1Counts[e] / tokens;
        return f;
    }

    /** {@code [M]} G_i. */
    public double[] meanProb() {
        double[] g = new double[probSums.length];
        for (int e = 0; e < g.length; e++) g[e] = probSums[e] / tokens;
        return g;
    }

    /** {@code M * sum_i F_i G_i} (1 for a perfectly balanced router). */
    public double auxLoss() {
        double[] f = fractionTop1(), g = meanProb();
        double s = 0;
        for (int e = 0; e < f.length; e++) s += f[e] * g[e];
        return numExperts() * s;
    }

    @Override
    public double[] probSums() {
        return probSums.clone();
    }

    @Override
    public long[] top1Counts() {
        return top1Counts.clone();
    }
}

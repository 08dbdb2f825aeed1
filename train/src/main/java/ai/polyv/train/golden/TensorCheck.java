package ai.polyv.train.golden;

/**
 * The comparison of one produced tensor with its golden reference.
 *
 * @param name      golden name without the case prefix, e.g. {@code hidden.3}
 * @param exact     integer tensor compared for equality (then {@code mismatches} counts differing
 *                  elements) rather than by relative L2 error
 * @param relL2     {@code ||out - ref|| / ||ref||} for float tensors (NaN for exact ones)
 * @param mismatches differing elements (exact tensors) or -1
 * @param passed    within tolerance / all equal and same shape
 * @param note      shape mismatch or missing tensor explanation, or empty
 */
public record TensorCheck(String name, boolean exact, double relL2, long mismatches, boolean passed, String note) {

    public String line(String caseName) {
        String what = exact ? (mismatches == 0 ? "exact match" : mismatches + " mismatches")
                : Double.isNaN(relL2) ? "not compared" : String.format("rel_l2 %.3e", relL2);
        return String.format("%-12s %-28s %-22s %s%s", caseName, name, what, passed ? "ok" : "FAIL",
                note.isEmpty() ? "" : "  (" + note + ")");
    }

    static TensorCheck floats(String name, float[] out, long[] outShape, float[] ref, long[] refShape, double tol) {
        if (!java.util.Arrays.equals(outShape, refShape) || out.length != ref.length) {
            return new TensorCheck(name, false, Double.NaN, -1, false,
                    "shape " + java.util.Arrays.toString(outShape) + " vs reference " + java.util.Arrays.toString(refShape));
        }
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) out[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
        return new TensorCheck(name, false, rel, -1, rel <= tol, "");
    }

    static TensorCheck ints(String name, long[] out, long[] outShape, long[] ref, long[] refShape) {
        if (!java.util.Arrays.equals(outShape, refShape) || out.length != ref.length) {
            return new TensorCheck(name, true, Double.NaN, Math.max(out.length, ref.length), false,
                    "shape " + java.util.Arrays.toString(outShape) + " vs reference " + java.util.Arrays.toString(refShape));
        }
        long bad = 0;
        for (int i = 0; i < ref.length; i++) if (out[i] != ref[i]) bad++;
        return new TensorCheck(name, true, Double.NaN, bad, bad == 0, "");
    }

    static TensorCheck missing(String name, String why) {
        return new TensorCheck(name, false, Double.NaN, -1, false, why);
    }
}

package ai.polyv.train.autograd;


/**
 * A host float32 matrix {@code [rows, cols]} (row-major) on a {@link Tape}: its value and, when it
 * requires a gradient, a gradient buffer of the same size that backward rules add into ({@code +=}).
 * Constants (frozen inputs, the decoder's input embeddings) have no gradient buffer. A trainable leaf
 * built by {@link #of(Param, int, int)} shares the parameter's value and gradient arrays, so backward
 * accumulates straight into {@link Param#grad()}.
 */
public final class Var {
    final float[] value; // [rows*cols]
    final float[] grad;  // [rows*cols] or null (no gradient needed)
    final int rows, cols;
    final boolean leaf;  // a parameter or a constant, not the output of an op

    private Var(float[] value, float[] grad, int rows, int cols, boolean leaf) {
        if ((long) rows * cols != value.length) {
            throw new IllegalArgumentException("var [" + rows + ", " + cols + "] needs " + (long) rows * cols + " values, got " + value.length);
        }
        this.value = value;
        this.grad = grad;
        this.rows = rows;
        this.cols = cols;
        this.leaf = leaf;
    }

    /** A constant {@code [rows, cols]} (no gradient); the array is used, not copied. */
    public static Var constant(float[] value, int rows, int cols) {
        return new Var(value, null, rows, cols, true);
    }

    /** A leaf that needs a gradient (tests, FD checks): a fresh zeroed gradient buffer. */
    public static Var trainable(float[] value, int rows, int cols) {
        return new Var(value, new float[value.length], rows, cols, true);
    }

    /** A trainable parameter seen as {@code [rows, cols]}; value and gradient are the parameter's arrays. */
    public static Var of(Param p, int rows, int cols) {
        return new Var(p.value(), p.grad(), rows, cols, true);
    }

    /** The output of an op; it gets a gradient buffer when any input needs one. */
    static Var output(int rows, int cols, boolean requiresGrad) {
        int n = Math.multiplyExact(rows, cols);
        return new Var(new float[n], requiresGrad ? new float[n] : null, rows, cols, false);
    }

    public boolean requiresGrad() {
        return grad != null;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The live value array {@code [rows*cols]}. */
    public float[] value() {
        return value;
    }

    /** The live gradient array {@code [rows*cols]}, or null for a constant. */
    public float[] grad() {
        return grad;
    }

    /** The single value of a {@code [1, 1]} var (a loss). */
    public double scalar() {
        if (value.length != 1) throw new IllegalStateException("var [" + rows + ", " + cols + "] is not a scalar");
        return value[0];
    }

    @Override
    public String toString() {
        return "Var[" + rows + ", " + cols + (grad != null ? ", grad" : "") + "]";
    }
}

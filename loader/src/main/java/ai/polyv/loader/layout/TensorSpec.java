package ai.polyv.loader.layout;

import ai.polyv.loader.safetensors.Shape;
import java.util.Arrays;

/**
 * One tensor of a {@link WeightLayout}: its canonical hub name (the original Qwen2.5-VL naming, see
 * {@link HubNaming}), its shape (outermost first; {@code -1} = taken from the checkpoint, only in optional
 * parts whose sizes a config may leave open) and its role.
 */
public record TensorSpec(String name, long[] shape, Role role) {

    /** What a tensor is, which fixes how a fresh checkpoint initialises it. */
    public enum Role {
        /** An RMSNorm / LayerNorm scale (initialised to 1). */
        NORM,
        /** A bias vector (initialised to 0). */
        BIAS,
        /** A projection or embedding matrix (initialised randomly). */
        WEIGHT
    }

    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long numel() {
        return Shape.numel(shape);
    }

    /** Whether {@code actual} fits this spec ({@code -1} matches any size). */
    public boolean matches(long[] actual) {
        if (actual.length != shape.length) return false;
        for (int i = 0; i < shape.length; i++) if (shape[i] >= 0 && shape[i] != actual[i]) return false;
        return true;
    }

    /** This spec with the open sizes taken from {@code actual} (which {@link #matches}). */
    TensorSpec resolved(long[] actual) {
        return new TensorSpec(name, actual, role);
    }

    /** The expected shape as text, {@code ?} for an open size. */
    public String shapeText() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) b.append(i == 0 ? "" : ", ").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
        return b.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s && name.equals(s.name) && Arrays.equals(shape, s.shape) && role == s.role;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}

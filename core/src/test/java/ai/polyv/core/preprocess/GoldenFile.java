package ai.polyv.core.preprocess;

import ai.polyv.testsupport.SharedData;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.loader.safetensors.SafetensorsFile;
import ai.polyv.loader.safetensors.TensorView;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The golden reference tensors of one model ({@code <polyv.shared>/golden/<model>/golden.safetensors}), read into arrays. */
public final class GoldenFile {

    private final Path path;

    private GoldenFile(Path path) {
        this.path = path;
    }

    public static GoldenFile open(String model) {
        return new GoldenFile(SharedData.golden(model).resolve("golden.safetensors"));
    }

    private <T> T read(String name, java.util.function.Function<TensorView, T> f) {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            return f.apply(file.tensor(name));
        }
    }

    public List<String> names() {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            return new ArrayList<>(file.names());
        }
    }

    public int[] shape(String name) {
        long[] s = read(name, TensorView::shape);
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) out[i] = Math.toIntExact(s[i]);
        return out;
    }

    public float[] f32(String name) {
        return read(name, t -> {
            if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " is " + t.dtype() + ", not F32");
            return t.toFloatArray();
        });
    }

    public long[] i64(String name) {
        return read(name, TensorView::toLongArray);
    }

    public byte[] u8(String name) {
        return read(name, t -> {
            if (t.dtype() != DType.U8) throw new IllegalArgumentException(name + " is " + t.dtype() + ", not U8");
            return t.data().toArray(ValueLayout.JAVA_BYTE);
        });
    }
}

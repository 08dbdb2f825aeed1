package ai.polyv.core.model;

import ai.polyv.core.backend.Backend;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import ai.polyv.loader.layout.Binder;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Every weight of the model as backend tensors: the {@link WeightLayout} of the model's family bound to a
 * {@link WeightSource} (names and shapes checked by the layout's {@link Binder} walk). Matrices stay in their
 * stored dtype (zero-copy on the CPU), viewed as {@code [dim0, rest]} (the patch embed's Conv3d kernel as
 * {@code [hidden, 3*2*14*14]}); 1-D tensors (norm weights, biases) are converted to F32 once, in an arena
 * owned by this object.
 */
final class ModelWeights implements AutoCloseable {

    final WeightLayout.Vision<Tensor, Tensor> vision;
    final TextDecoder.Weights decoder;
    final WeightLayout.Heads<Tensor, Tensor> heads;   // a head is null when the checkpoint has none

    private final Arena arena = Arena.ofShared();

    ModelWeights(WeightSource src, WeightLayout<TensorSpec, TensorSpec> layout, Backend backend) {
        try {
            Bind bind = new Bind(src, backend, arena);
            this.vision = bind.vision(layout.vision());
            this.decoder = new TextDecoder.Weights(bind.decoder(layout.decoder()));
            this.heads = bind.heads(layout.heads());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The inference binder: matrices as the backend's tensors, vectors as F32 copies. */
    private record Bind(WeightSource src, Backend backend, Arena arena) implements Binder<Tensor, Tensor> {
        @Override
        public boolean has(String name) {
            return src.has(name);
        }

        @Override
        public long[] shape(String name) {
            return src.get(name).shape();
        }

        @Override
        public Tensor matrix(TensorSpec spec) {
            WeightSource.Raw w = src.get(spec.name());
            long rows = spec.dim(0);
            return src.toBackend(backend, w, rows, spec.numel() / rows);
        }

        @Override
        public Tensor vector(TensorSpec spec) {
            WeightSource.Raw w = src.get(spec.name());
            int n = Math.toIntExact(spec.dim(0));
            Tensor stored = new Tensor(w.dtype(), w.data(), n);
            MemorySegment f = arena.allocate(4L * n, 64);
            for (int i = 0; i < n; i++) f.setAtIndex(ValueLayout.JAVA_FLOAT, i, stored.getFloat(i));
            return backend.weight(DType.F32, f, n);
        }

        @Override
        public String describe() {
            return src.describe();
        }

        @Override
        public String storedName(String name) {
            return src.naming().stored(name);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}

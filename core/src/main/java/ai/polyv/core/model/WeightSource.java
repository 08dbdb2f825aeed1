package ai.polyv.core.model;

import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.TensorView;
import ai.polyv.core.backend.Backend;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Where model weights come from: a checkpoint, or synthetic weights in tests. Tensors are asked for by canonical
 * name ({@code ai.polyv.loader.layout.HubNames}); a source in another {@link HubNaming} translates.
 */
public interface WeightSource {

    /** One stored tensor: its name, dtype, shape and exact little-endian bytes. */
    record Raw(String name, DType dtype, long[] shape, MemorySegment data) {}

    boolean has(String name);

    /** The tensor, or an IllegalArgumentException naming it when it is missing. */
    Raw get(String name);

    /** A description of where the tensors come from, for error messages. */
    String describe();

    /** How the source names its tensors ({@link Raw#name} is the stored name). */
    default HubNaming naming() {
        return HubNaming.ORIGINAL;
    }

    /**
     * The backend tensor of the matrix {@code raw}, viewed as {@code shape}: by default the backend's copy of
     * its bytes. A source that makes its matrices on the device (real-size benchmarks, no host copy) overrides
     * this; 1-D tensors (norms, biases) are always read from {@link Raw#data}.
     */
    default Tensor toBackend(Backend backend, Raw raw, long... shape) {
        return backend.weight(raw.dtype(), raw.data(), shape);
    }

    /** The tensors of a checkpoint in either hub naming ({@link HubNaming#detect} from its names). */
    static WeightSource of(Checkpoint ckpt) {
        HubNaming naming = HubNaming.detect(ckpt.names(), "checkpoint " + ckpt.dir());
        return new WeightSource() {
            @Override
            public boolean has(String name) {
                return ckpt.has(naming.stored(name));
            }

            @Override
            public Raw get(String name) {
                String stored = naming.stored(name);
                if (!ckpt.has(stored)) {
                    throw new IllegalArgumentException("checkpoint " + ckpt.dir() + " has no tensor '" + stored + "'"
                            + (naming == HubNaming.ORIGINAL ? "" : " (" + naming.description() + " naming)"));
                }
                TensorView v = ckpt.tensor(stored);
                return new Raw(stored, Tensor.requireElementType(v.dtype()), v.shape(), v.data());
            }

            @Override
            public String describe() {
                return "checkpoint " + ckpt.dir();
            }

            @Override
            public HubNaming naming() {
                return naming;
            }
        };
    }
}

package ai.polyv.loader.inspect;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.layout.TensorSpec;
import ai.polyv.loader.layout.WeightLayout;
import ai.polyv.loader.safetensors.Checkpoint;
import ai.polyv.loader.safetensors.TensorView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a checkpoint against its config: every tensor {@link WeightLayout#expected} requires is present with
 * the expected shape and a floating-point dtype, under the checkpoint's {@link HubNaming} (messages name tensors
 * as stored). Tensors the config does not need are reported separately
 * (they are ignored by the runtime, so they are not an error).
 *
 * @param problems   one message per missing, misshaped or wrongly typed tensor, in expected-tensor order
 * @param unexpected names present in the checkpoint that the config does not use, sorted
 * @param expected   how many tensors the config requires
 */
public record ConfigCheck(List<String> problems, List<String> unexpected, int expected) {
    public ConfigCheck {
        problems = List.copyOf(problems);
        unexpected = List.copyOf(unexpected);
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    public static ConfigCheck of(Checkpoint ckpt, PolyVConfig config) {
        List<TensorSpec> specs = WeightLayout.expected(config);
        HubNaming naming = HubNaming.detect(ckpt.names(), "checkpoint " + ckpt.dir());
        List<String> problems = new ArrayList<>();
        Set<String> needed = new HashSet<>();
        for (TensorSpec s : specs) {
            String name = naming.stored(s.name());
            needed.add(name);
            if (!ckpt.has(name)) {
                problems.add(String.format(Locale.ROOT, "missing tensor \"%s\" (config.json needs shape %s)",
                        name, Arrays.toString(s.shape())));
                continue;
            }
            TensorView t = ckpt.tensor(name);
            if (!Arrays.equals(t.shape(), s.shape())) {
                problems.add(String.format(Locale.ROOT, "tensor \"%s\": shape %s, config.json needs %s",
                        name, Arrays.toString(t.shape()), Arrays.toString(s.shape())));
            } else if (!t.dtype().isFloatingPoint()) {
                problems.add(String.format(Locale.ROOT, "tensor \"%s\": dtype %s, expected a floating-point dtype",
                        name, t.dtype()));
            }
        }
        List<String> unexpected = ckpt.names().stream().filter(n -> !needed.contains(n)).sorted().toList();
        return new ConfigCheck(problems, unexpected, specs.size());
    }
}

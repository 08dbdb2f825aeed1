package ai.polyv.core.sampling;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * Token ids that end generation (the config's eos ids and the tokenizer's {@code <|im_end|>});
 * a stop token is not emitted as text.
 */
public record StopTokens(Set<Integer> ids) {

    public StopTokens {
        ids = Set.copyOf(ids);
    }

    public static StopTokens of(int... ids) {
        return new StopTokens(new TreeSet<>(Arrays.stream(ids).boxed().toList()));
    }

    public boolean isStop(int id) {
        return ids.contains(id);
    }
}

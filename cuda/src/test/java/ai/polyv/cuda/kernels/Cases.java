package ai.polyv.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.opentest4j.MultipleFailuresError;

/**
 * Runs every case of a GPU test and reports all that failed, in the order they ran, instead of stopping
 * at the first: one device run must say which kernel and which cases fail (the first failure listed
 * is the one to look at: after a sticky CUDA error every later case fails with it too).
 */
public final class Cases {
    private Cases() {}

    public static <T> void each(String test, T[] cases, Consumer<T> body) {
        List<Throwable> failures = new ArrayList<>();
        for (T c : cases) {
            try {
                body.accept(c);
            } catch (AssertionError | RuntimeException e) {
                failures.add(e);
            }
        }
        if (failures.size() == 1 && failures.get(0) instanceof AssertionError a) throw a;
        if (!failures.isEmpty()) {
            throw new MultipleFailuresError(test + ": " + failures.size() + " of " + cases.length + " cases failed", failures);
        }
    }
}

package ai.polyv.train.upcycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.DType;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.model.PolyVModel;
import ai.polyv.core.model.Session;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a unit test: writes the mid-size synthetic inputs used to measure {@code polyv upcycle} (run on demand,
 * {@code -Dpolyv.upcycle.measure=DIR}): a dense BF16 base of 16 layers, hidden 1024, FFN 2816, vocab 32000
 * (about 490 MB, sharded at 200 MB) and two donors of the same shapes, into DIR/{base,donor1,donor2}.
 */
class MidSizeBaseWriter {
    @Test
    @EnabledIfSystemProperty(named = "polyv.upcycle.measure", matches = ".+")
    void writeInputs() {
        Path dir = Path.of(System.getProperty("polyv.upcycle.measure"));
        PolyVConfig c = SyntheticQwen.config(1024, 2816, 16, 16, 4, 32000, 256);
        SyntheticQwen.write(dir.resolve("base"), c, DType.BF16, 1, 0.02, 200_000_000L);
        SyntheticQwen.write(dir.resolve("donor1"), c, DType.BF16, 2, 0.02, 200_000_000L);
        SyntheticQwen.write(dir.resolve("donor2"), c, DType.BF16, 3, 0.02, 200_000_000L);
    }

    /** Loads DIR/out (the upcycled checkpoint) in PolyVModel on the CPU and runs a 16-token prefill. */
    @Test
    @EnabledIfSystemProperty(named = "polyv.upcycle.verify", matches = ".+")
    void loadAndPrefillOutput() {
        Path dir = Path.of(System.getProperty("polyv.upcycle.verify"));
        int[] prompt = new int[16];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + 37 * i;
        long t0 = System.nanoTime();
        try (Backend be = Backend.cpu(); PolyVModel m = PolyVModel.load(dir, be); Session s = m.newSession(32)) {
            long t1 = System.nanoTime();
            float[] logits = s.prefill(prompt, List.of());
            long t2 = System.nanoTime();
            for (float v : logits) assertTrue(Float.isFinite(v));
            assertEquals(m.config().text().vocabSize(), logits.length);
            System.out.printf("loaded %s in %.2f s, 16-token prefill %.2f s, routing layer 0 %s%n", dir, (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9, java.util.Arrays.toString(s.routingStats().tokensPerExpert(0)));
        }
    }
}

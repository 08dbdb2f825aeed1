package ai.polyv.runtime.upcycle;

import ai.polyv.loader.config.PolyVConfig;
import ai.polyv.loader.safetensors.DType;
import java.nio.file.Path;
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
}

package ai.polyv.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.polyv.core.PolyV;
import ai.polyv.core.backend.Backend;
import ai.polyv.core.demo.DemoImage;
import ai.polyv.core.generate.GenerationRequest;
import ai.polyv.core.generate.GenerationResult;
import ai.polyv.core.generate.Visual;
import ai.polyv.loader.layout.HubNaming;
import ai.polyv.loader.layout.ModelFamily;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain dense Qwen2.5-VL checkpoints (the config.json keys of Qwen/Qwen2.5-VL-7B-Instruct, random weights) load
 * and generate, in both hub namings, with identical logits.
 */
class QwenCheckpointTest {
    private static final int START = 301, END = 302, IMAGE = 304;

    @TempDir
    Path tmp;

    /** {@code <|vision_start|>} + 4 image pads (a 1x4x4 grid) + {@code <|vision_end|>} + text. */
    private static int[] prompt() {
        return new int[] {306, 10, 11, START, IMAGE, IMAGE, IMAGE, IMAGE, END, 12, 13, 14};
    }

    private static VisionInput image() {
        SplittableRandom r = new SplittableRandom(7);
        float[] px = new float[16 * 1176];
        for (int i = 0; i < px.length; i++) px[i] = (float) r.nextDouble(-1, 1);
        return new VisionInput(VisionInput.Kind.IMAGE, px, new VisionInput.GridThw(1, 4, 4), 1.0, null);
    }

    /** Prefill logits then 3 greedy decode steps' logits, concatenated. */
    private static List<float[]> logits(Path dir) {
        List<float[]> out = new ArrayList<>();
        try (Backend be = Backend.cpu(); PolyVModel m = PolyVModel.load(dir, be); Session s = m.newSession(32)) {
            assertEquals(ModelFamily.QWEN2_5_VL, m.family());
            float[] l = s.prefill(prompt(), List.of(image()));
            out.add(l);
            for (int step = 0; step < 3; step++) {
                l = s.decode(argmax(l));
                out.add(l);
            }
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Test
    void bothHubNamingsGiveIdenticalLogits() {
        Path original = RandomQwen25Vl.write(tmp.resolve("original"), HubNaming.ORIGINAL, 42);
        Path t5 = RandomQwen25Vl.write(tmp.resolve("t5"), HubNaming.TRANSFORMERS_5, 42);
        List<float[]> a = logits(original), b = logits(t5);
        assertEquals(4, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(320, a.get(i).length);
            for (float x : a.get(i)) assertTrue(Float.isFinite(x));
            assertArrayEquals(a.get(i), b.get(i), 0f, "step " + i);
        }
    }

    @Test
    void denseQwenGeneratesThroughTheApi() {
        Path dir = RandomQwen25Vl.write(tmp.resolve("m"), HubNaming.ORIGINAL, 1);
        try (PolyV model = PolyV.load(dir, Backend.cpu())) {
            GenerationRequest r = GenerationRequest.builderOfIds(prompt()).visual(new Visual.Image(DemoImage.create(56, 56)))
                    .maxNewTokens(5).noDefaultStopTokens().build();
            GenerationResult a = model.generate(r), b = model.generate(r);
            assertEquals(5, a.ids().length);
            assertArrayEquals(a.ids(), b.ids());
            for (int id : a.ids()) assertTrue(id >= 0 && id < 320);
        }
    }

    @Test
    void aMissingTensorIsNamedAsStored() throws Exception {
        Path dir = RandomQwen25Vl.write(tmp.resolve("t5"), HubNaming.TRANSFORMERS_5, 3);
        // drop one tensor by rewriting the file without it
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(dir.resolve("config.json"), broken.resolve("config.json"));
        try (var ck = ai.polyv.loader.safetensors.Checkpoint.open(dir)) {
            var kept = new java.util.LinkedHashMap<String, ai.polyv.loader.safetensors.TensorSource>();
            for (String n : ck.names()) {
                if (!n.equals("model.language_model.layers.1.mlp.up_proj.weight")) kept.put(n, ai.polyv.loader.safetensors.TensorData.of(ck.tensor(n)));
            }
            ai.polyv.loader.safetensors.SafetensorsWriter.write(broken.resolve("model.safetensors"), kept);
        }
        try (Backend be = Backend.cpu()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolyVModel.load(broken, be).close());
            assertTrue(e.getMessage().contains("'model.language_model.layers.1.mlp.up_proj.weight'"), e.getMessage());
        }
    }

    @Test
    void aDenseModelHasNoRoutingAndNoHeads() {
        Path dir = RandomQwen25Vl.write(tmp.resolve("m"), HubNaming.ORIGINAL, 5);
        try (Backend be = Backend.cpu(); PolyVModel m = PolyVModel.load(dir, be)) {
            assertNull(m.config().moe());
            assertFalse(m.layout().heads().declared());
            assertThrows(IllegalStateException.class, () -> m.synergyHead(PolyVModel.SynergyHead.TEMPORAL, new float[64], 1));
        }
    }
}

package ai.polyv.core.generate;

import ai.polyv.core.model.VisionInput;
import ai.polyv.core.preprocess.RgbFrames;
import ai.polyv.core.scene.MultiViewScene;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One visual input of a {@link GenerationRequest}: a file or folder to read, frames already in memory,
 * or an input already preprocessed for the vision encoder. In a chat prompt the visuals come first in
 * the user turn, in request order, each as {@code <|vision_start|>} + placeholders + {@code <|vision_end|>}.
 */
public sealed interface Visual {

    /** A PNG or JPEG file. */
    record ImageFile(Path file) implements Visual {
        public ImageFile {
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * A PNG or JPEG file's bytes, decoded (as {@link ImageFile} is) when the request is prepared, so that a request
     * holds the compressed image until then. {@code what} names it in a decoding error.
     */
    record ImageBytes(byte[] data, String what) implements Visual {
        public ImageBytes {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(what, "what");
        }
    }

    /** An image in memory (one frame). */
    record Image(RgbFrames frames) implements Visual {
        public Image {
            Objects.requireNonNull(frames, "frames");
            if (frames.frames() != 1) throw new IllegalArgumentException("an image has one frame, got " + frames.frames());
        }
    }

    /**
     * A directory of frame images (see {@link ai.polyv.core.preprocess.VideoFrames} for the rule),
     * sampled at {@code fps}; the frames were taken at {@code sourceFps} (pass {@code fps} to use every frame).
     */
    record VideoDirectory(Path dir, double fps, double sourceFps) implements Visual {
        public VideoDirectory {
            Objects.requireNonNull(dir, "dir");
            if (!(fps > 0) || !(sourceFps > 0)) throw new IllegalArgumentException("fps must be positive, got " + fps + " (source " + sourceFps + ")");
        }
    }

    /** Video frames in memory that represent {@code fps} frames per second. */
    record Video(RgbFrames frames, double fps) implements Visual {
        public Video {
            Objects.requireNonNull(frames, "frames");
            if (!(fps > 0)) throw new IllegalArgumentException("fps must be positive, got " + fps);
        }
    }

    /** A ScanNet-layout scene folder; {@code views} frames (even) become a multi-view input with 3D PE. */
    record SceneDirectory(Path dir, int views) implements Visual {
        public SceneDirectory {
            Objects.requireNonNull(dir, "dir");
            if (views < 2 || views % 2 != 0) throw new IllegalArgumentException("scene views must be even and at least 2, got " + views);
        }
    }

    /** A multi-view scene in memory (colour, depth, cameras); gets the model's 3D PE. */
    record Scene(MultiViewScene scene) implements Visual {
        public Scene {
            Objects.requireNonNull(scene, "scene");
        }
    }

    /** An input already preprocessed for the vision encoder (patch rows and grid). */
    record Preprocessed(VisionInput input) implements Visual {
        public Preprocessed {
            Objects.requireNonNull(input, "input");
        }
    }
}

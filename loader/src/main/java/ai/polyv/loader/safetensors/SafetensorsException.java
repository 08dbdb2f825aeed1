package ai.polyv.loader.safetensors;

/**
 * The loader's own error type: every problem with a safetensors file, a sharded checkpoint or its index
 * is reported as this exception, with a message naming the file, the tensor and the field, and what was
 * expected versus what was found. Reading a malformed file never fails with a lower-level exception.
 */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}

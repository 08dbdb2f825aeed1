package ai.polyv.train.upcycle;

/** Bad upcycling input (a folder, tensor, option or shape that does not fit); the message names it. */
public final class UpcycleException extends RuntimeException {
    public UpcycleException(String message) {
        super(message);
    }

    public UpcycleException(String message, Throwable cause) {
        super(message, cause);
    }
}

package ai.polyv.loader.config;

/**
 * A config.json that cannot be used: malformed JSON, a field of the wrong type, or values that break a
 * model invariant. The message names the file (where known), the field and what was expected versus found.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    static ConfigException field(String field, String expected, Object found) {
        return new ConfigException("field \"" + field + "\": expected " + expected + ", found " + found);
    }

    static void require(boolean ok, String field, String expected, Object found) {
        if (!ok) {
            throw field(field, expected, found);
        }
    }
}

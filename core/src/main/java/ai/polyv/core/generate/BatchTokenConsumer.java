package ai.polyv.core.generate;

/**
 * Receives the tokens of a batch of requests ({@link ai.polyv.core.PolyV#generate(java.util.List, int, BatchTokenConsumer)})
 * as they are chosen: the request's index in the list, then the id and text piece exactly as a
 * {@link TokenConsumer} of that request alone would get them (including the final {@link TokenConsumer#END} flush).
 */
@FunctionalInterface
public non-sealed interface BatchTokenConsumer extends TokenListener {

    /** Ignores every token. */
    BatchTokenConsumer NONE = (request, id, text) -> { };

    void accept(int request, int id, String text);
}

package ai.polyv.core.generate;

/**
 * The token listeners of generation, one closed family: what a caller passes to be told of each token as it is
 * chosen. Each member is a functional interface (a lambda is a listener); they differ only in what the call
 * carries, from the engine up to the API:
 * <ul>
 *   <li>{@link IdListener} {@code (sequence, id) -> stop?}: the {@link Generator} level, ids of the sequences
 *       decoding together; returning true ends that sequence (a stop string was reached);</li>
 *   <li>{@link TokenConsumer} {@code (id, text)}: one request through {@code PolyV} / {@code GenerationService},
 *       with the text piece of each id (never half a UTF-8 character) and a final {@link TokenConsumer#END} flush;</li>
 *   <li>{@link BatchTokenConsumer} {@code (request, id, text)}: a list of requests decoded together, each
 *       request's calls exactly what a {@link TokenConsumer} of that request alone would get.</li>
 * </ul>
 * The API turns a {@link TokenConsumer} or {@link BatchTokenConsumer} into an {@link IdListener} through a
 * {@link TextStream} per request (detokenising, holding back text that may begin a stop string).
 */
public sealed interface TokenListener permits IdListener, TokenConsumer, BatchTokenConsumer {
}

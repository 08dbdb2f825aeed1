package ai.polyv.core.generate;

/**
 * Receives each generated id of sequence {@code sequence} (its index in the job list, or the batch's id for it) as
 * soon as it is chosen, at the {@link Generator} level (no text). Returning true ends that sequence right after
 * {@code id} with {@link Generator.StopReason#STOP_STRING} (its text reached a stop string), without decoding it.
 * One of the {@link TokenListener} family.
 */
@FunctionalInterface
public non-sealed interface IdListener extends TokenListener {
    /** Ignores every id and never ends a sequence. */
    IdListener NONE = (sequence, id) -> false;

    boolean accept(int sequence, int id);
}

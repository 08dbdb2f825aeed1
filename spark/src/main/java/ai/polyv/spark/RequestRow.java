package ai.polyv.spark;

import java.io.Serializable;

/**
 * One request on its way to an executor: the caller's id (a batch file's line number, or a Dataset's {@code id}
 * column) and the request as a JSON object in the format of {@link ai.polyv.core.generate.RequestJson}, parsed inside
 * the task so that a bad request becomes its own error row.
 */
public record RequestRow(String id, String json) implements Serializable {}

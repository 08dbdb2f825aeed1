package ai.polyv.spark;

import java.io.Serializable;

/**
 * One request's outcome: either a result ({@code error} null) or the reason it did not run ({@code error} set, the
 * rest empty). The columns of {@link PolyVSpark#RESULT_SCHEMA}.
 *
 * @param ids              {@code [completionTokens]} generated ids, stop token excluded
 * @param stop             the stop reason in lower case ({@code eos}, {@code max_new_tokens}, ...)
 */
public record ResultRow(String id, String text, int[] ids, int promptTokens, int completionTokens, String stop, double prefillMs,
                        double decodeMs, String error) implements Serializable {

    static ResultRow failed(String id, String error) {
        return new ResultRow(id, null, null, 0, 0, null, 0, 0, error);
    }
}

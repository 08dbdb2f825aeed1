package ai.polyv.train.data;

/** A training file or one of its rows is invalid; the message names the file, the row and the field. */
public final class TrainDataException extends IllegalArgumentException {
    private final long row;
    private final String field;

    public TrainDataException(String file, long row, String field, String problem) {
        super(file + (row >= 0 ? ": row " + row : "") + (field != null ? ": field \"" + field + "\"" : "") + ": " + problem);
        this.row = row;
        this.field = field;
    }

    /** 0-based row number, or -1 for a file-level problem. */
    public long row() {
        return row;
    }

    /** The column at fault, or null. */
    public String field() {
        return field;
    }
}

package ai.polyv.train.data;

/** The valid rows of {@link TrainDataTest} (golden tiny-a ids) for tests in other packages. */
public final class TrainDataTestRows {
    private TrainDataTestRows() {}

    public static TrainRow imageRow() {
        return TrainDataTest.imageRow();
    }

    public static TrainRow videoRow() {
        return TrainDataTest.videoRow();
    }
}

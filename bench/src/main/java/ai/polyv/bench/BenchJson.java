package ai.polyv.bench;

import ai.polyv.loader.util.AtomicFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Benchmark reports as JSON (records serialise field by field), written atomically. */
public final class BenchJson {
    private BenchJson() {}

    static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public static String toJson(Object report) {
        try {
            return JSON.writeValueAsString(report) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise benchmark report " + report.getClass().getSimpleName(), e);
        }
    }

    /** Writes {@code report} to {@code file} through a temp file in the same folder and an atomic rename. */
    public static void write(Path file, Object report) {
        String json = toJson(report);
        try {
            AtomicFiles.writeString(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark JSON " + file + ": " + e.getMessage(), e);
        }
    }
}

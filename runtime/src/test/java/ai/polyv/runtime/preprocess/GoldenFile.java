package ai.polyv.runtime.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Reads the golden reference tensors (safetensors, little endian) for tests: F32, I64 and U8 only.
 * Kept minimal and test-local so these tests do not depend on the loader's API.
 */
public final class GoldenFile {

    private final JsonNode header;
    private final ByteBuffer data;

    private GoldenFile(JsonNode header, ByteBuffer data) {
        this.header = header;
        this.data = data;
    }

    /** {@code <polyv.shared>/golden/<model>/golden.safetensors}. */
    public static GoldenFile open(String model) throws IOException {
        String shared = System.getProperty("polyv.shared", "../shared");
        Path p = Path.of(shared, "golden", model, "golden.safetensors");
        byte[] all = Files.readAllBytes(p);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        JsonNode h = new ObjectMapper().readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        ByteBuffer d = ByteBuffer.wrap(all, 8 + (int) n, all.length - 8 - (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new GoldenFile(h, d);
    }

    public boolean has(String name) {
        return header.has(name);
    }

    public int[] shape(String name) {
        JsonNode s = entry(name).get("shape");
        int[] out = new int[s.size()];
        for (int i = 0; i < out.length; i++) out[i] = s.get(i).asInt();
        return out;
    }

    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("__metadata__")) out.add(k);
        }
        return out;
    }

    private JsonNode entry(String name) {
        JsonNode e = header.get(name);
        if (e == null) throw new IllegalArgumentException("golden tensor " + name + " missing");
        return e;
    }

    private ByteBuffer bytes(String name, String dtype) {
        JsonNode e = entry(name);
        if (!e.get("dtype").asText().equals(dtype)) throw new IllegalArgumentException(name + " is " + e.get("dtype") + ", not " + dtype);
        int s = e.get("data_offsets").get(0).asInt();
        int t = e.get("data_offsets").get(1).asInt();
        return data.slice(s, t - s).order(ByteOrder.LITTLE_ENDIAN);
    }

    public float[] f32(String name) {
        ByteBuffer b = bytes(name, "F32");
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    public long[] i64(String name) {
        ByteBuffer b = bytes(name, "I64");
        long[] out = new long[b.remaining() / 8];
        b.asLongBuffer().get(out);
        return out;
    }

    public byte[] u8(String name) {
        ByteBuffer b = bytes(name, "U8");
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}

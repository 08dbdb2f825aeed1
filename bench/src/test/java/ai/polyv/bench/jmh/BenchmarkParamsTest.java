package ai.polyv.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.polyv.bench.CpuOpCases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

/** Every JMH class runs exactly its family's cases, and together they cover every case of {@code polyv bench ops}. */
class BenchmarkParamsTest {
    private static final Map<Class<?>, String> FAMILIES = Map.of(
            MatmulBenchmark.class, "matmul",
            ElementwiseBenchmark.class, "elementwise",
            RowMovementBenchmark.class, "rows",
            AttentionBenchmark.class, "attention",
            RoutingBenchmark.class, "routing");

    private static List<String> params(Class<?> c) throws NoSuchFieldException {
        return List.of(c.getField("name").getAnnotation(Param.class).value());
    }

    @Test
    void paramsMatchCaseFamilies() throws Exception {
        for (var e : FAMILIES.entrySet()) {
            assertEquals(CpuOpCases.names(e.getValue()), params(e.getKey()), e.getKey().getSimpleName());
        }
    }

    @Test
    void everyCaseHasAJmhBenchmark() throws Exception {
        List<String> all = new ArrayList<>();
        for (Class<?> c : FAMILIES.keySet()) all.addAll(params(c));
        assertEquals(CpuOpCases.names().size(), all.size());
        assertEquals(new java.util.TreeSet<>(CpuOpCases.names()), new java.util.TreeSet<>(all));
    }
}

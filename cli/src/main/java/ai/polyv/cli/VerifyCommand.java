package ai.polyv.cli;

import ai.polyv.core.backend.Backend;
import ai.polyv.train.golden.GoldenVerifier;
import ai.polyv.core.model.PolyVModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Run the golden cases of a reference folder and compare every tensor (exit 1 on mismatch).")
public final class VerifyCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "checkpoint folder (config.json + safetensors)")
    Path model;

    @Option(names = "--golden", description = "golden.safetensors (golden.json beside it); default: <model>/golden.safetensors")
    Path golden;

    @Option(names = "--backend", defaultValue = "cpu", description = "backend: cpu or cuda (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--case", description = "run only this case")
    String caseName;

    @Override
    public Integer call() {
        Path g = golden != null ? golden : model.resolve("golden.safetensors");
        if (Files.isDirectory(g)) g = g.resolve("golden.safetensors");
        try (Backend be = Backend.named(backend); PolyVModel m = PolyVModel.load(model, be)) {
            GoldenVerifier v = new GoldenVerifier(m, g);
            long t0 = System.nanoTime();
            List<GoldenVerifier.CaseResult> results = v.run(caseName, System.out);
            long failed = results.stream().flatMap(r -> r.checks().stream()).filter(c -> !c.passed()).count();
            long total = results.stream().mapToLong(r -> r.checks().size()).sum();
            System.out.printf("%d of %d tensors within tolerance (relative L2 <= %.0e, ids exact) on backend %s in %.1f s%n",
                    total - failed, total, v.tolerance(), be.name(), (System.nanoTime() - t0) / 1e9);
            if (failed > 0) {
                results.stream().flatMap(r -> r.checks().stream().filter(c -> !c.passed()).map(c -> c.line(r.name())))
                        .limit(20).forEach(l -> System.out.println("FAILED: " + l));
            }
            return failed == 0 ? 0 : 1;
        }
    }

}

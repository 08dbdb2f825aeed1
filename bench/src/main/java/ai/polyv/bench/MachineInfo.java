package ai.polyv.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Where a benchmark ran: CPU model, processors, JVM, and the 1-minute load average at the start and end
 * (the cores may be shared with other processes: a load above the processor count means the numbers are
 * a lower bound).
 */
public record MachineInfo(String cpu, int processors, String jvm, String startedAt, double loadAtStart) {

    public static MachineInfo current() {
        return new MachineInfo(cpuModel(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + Runtime.version(), Instant.now().toString(), loadAverage());
    }

    /** 1-minute load average from {@code /proc/loadavg}, or -1 where it cannot be read. */
    public static double loadAverage() {
        try {
            String s = Files.readString(Path.of("/proc/loadavg")).trim();
            return Double.parseDouble(s.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This process's peak resident set ({@code VmHWM} of /proc/self/status) in bytes, or -1 where it cannot be read. */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }

    public String describe() {
        return String.format("%s, %d processors, %s, load %.2f", cpu, processors, jvm, loadAtStart);
    }
}

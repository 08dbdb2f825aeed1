package ai.polyv.bench;

/** What limits an op, and so which measured ceiling its speed is compared with. */
public enum Bound {
    /** Judged in GB/s against the copy bandwidth. */
    MEMORY,
    /** Judged in GFLOP/s against the FMA peak. */
    COMPUTE
}

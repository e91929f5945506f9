package org.g2g.backend.cpu;

import java.util.Locale;

/** Who multiplies the CPU backend's dense blocks: OpenBLAS (one thread per worker) or our Vector API kernels. */
public enum DenseEngine {
    OPENBLAS, VECTOR;

    /**
     * The system property g2g.cpu.dense, else the environment variable G2G_CPU_DENSE, else VECTOR:
     * OpenBLAS is opt-in until it is measured faster on the whole step (docs/measurements-cpu.md);
     * it changes the summation order, so a run's numbers differ from the Vector API kernels'.
     */
    public static DenseEngine fromEnvironment() {
        String v = System.getProperty("g2g.cpu.dense", System.getenv("G2G_CPU_DENSE"));
        if (v == null || v.isBlank()) return VECTOR;
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("G2G_CPU_DENSE / g2g.cpu.dense: expected openblas or vector, got '" + v + "'");
        }
    }
}

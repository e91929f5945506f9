package org.g2g.backend.cpu;

import java.util.Locale;

/** Who multiplies the CPU backend's dense blocks: OpenBLAS (one thread per worker) or our Vector API kernels. */
public enum DenseEngine {
    OPENBLAS, VECTOR;

    /**
     * The system property g2g.cpu.dense, else the environment variable G2G_CPU_DENSE, else OPENBLAS:
     * measured 2.7x our Vector API kernels on the dense model's step and 1.4x on G2GNet's
     * (docs/measurements-cpu.md, 2026-12-07). Each worker calls it single-threaded on its static
     * share, so a run stays bit-identical for a seed and thread count; the two engines sum in
     * different orders, so their runs' numbers differ in the last bits. Where OpenBLAS does not
     * load, {@link CpuBackend} falls back to VECTOR and says so in its description.
     */
    public static DenseEngine fromEnvironment() {
        String v = System.getProperty("g2g.cpu.dense", System.getenv("G2G_CPU_DENSE"));
        if (v == null || v.isBlank()) return OPENBLAS;
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("G2G_CPU_DENSE / g2g.cpu.dense: expected openblas or vector, got '" + v + "'");
        }
    }
}

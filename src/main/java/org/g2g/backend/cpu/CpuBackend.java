package org.g2g.backend.cpu;

/** TEMPORARY stand-in until the fast kernels land: the reference loops. */
public final class CpuBackend extends ReferenceBackend {
    public CpuBackend(int threads) {}
}

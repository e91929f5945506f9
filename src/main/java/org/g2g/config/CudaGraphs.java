package org.g2g.config;

/**
 * --cuda-graphs: record each training step once as a CUDA graph and replay it (on), or launch
 * every kernel of every step (off). Both give the same numbers. No effect on the CPU backend,
 * which launches nothing.
 */
public enum CudaGraphs implements Choice {
    ON, OFF;

    @Override public String toString() { return spelling(); }
}

package org.g2g.backend;

import java.util.Map;

/**
 * Optional for a backend that times its own kernels (CUDA events): `g2g profile` reports these
 * per step when the backend implements it. Times accumulate from the last reset until they
 * are read; reading stops the timing (timed launches cannot be recorded into a CUDA graph).
 */
public interface KernelTimes {
    /** Milliseconds spent in each named kernel since the last reset, as measured on the device. */
    Map<String, Double> kernelMillis();

    void resetKernelTimes();
}

package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The one gate for @Tag("gpu") tests: skip with the probe's reason, said once on the console. */
final class GpuTests {
    private static boolean told;

    private GpuTests() {}

    static synchronized void requireGpu() {
        CudaStatus s = Cuda.probe();
        if (!s.usable() && !told) {
            told = true;
            System.err.println("[g2g] GPU tests skipped: CUDA not usable: " + s.reason());
        }
        assumeTrue(s.usable(), "CUDA not usable: " + s.reason());
    }
}

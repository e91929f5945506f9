package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The one gate for @Tag("gpu") tests: skip with the probe's reason, said once on the console;
 * fail instead where CUDA must be usable (G2G_REQUIRE_CUDA, set by the pom's gpu-emulated
 * execution), so a broken emulated device cannot pass CI by skipping. Public: GPU tests of
 * other packages (emu, sweep) pass the same gate.
 */
public final class GpuTests {
    private static boolean told;

    private GpuTests() {}

    public static synchronized void requireGpu() {
        CudaStatus s = Cuda.probe();
        if (!s.usable() && !told) {
            told = true;
            System.err.println("[g2g] GPU tests skipped: CUDA not usable: " + s.reason());
        }
        if (System.getenv("G2G_REQUIRE_CUDA") != null && !s.usable()) {
            throw new AssertionError("CUDA must be usable here (G2G_REQUIRE_CUDA) but is not: " + s.reason());
        }
        assumeTrue(s.usable(), "CUDA not usable: " + s.reason());
    }
}

package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.g2g.backend.Backend;
import org.g2g.config.RunConfig;
import org.g2g.profile.ProfileReport;
import org.g2g.profile.Profiler;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * `g2g profile` on CUDA reports device time per kernel (KernelTimes: a pair of CUDA events
 * around every launch, in a pass of its own): the kernels a G2G training step launches are
 * named, each with a finite non-negative time, and together they took some time.
 */
@Tag("gpu")
class CudaKernelTimesTest {
    @Test
    void profileReportsDeviceTimePerKernel() {
        GpuTests.requireGpu();
        RunConfig c = RunConfig.builder().setAll(Map.of("encoder", "none", "model", "g2g", "hidden", 16, "layers", 2,
                "groups", 4, "p-intra", 1.0, "p-inter", 0.25, "batch", 8, "device", "cuda")).build();
        Profiler.Options o = new Profiler.Options(1, 4, 1, 2, List.of("g2g"), false, 0, 32, 8, 0.01);
        try (Backend be = Cuda.open(0, "custom")) {
            ProfileReport r = Profiler.run(c, o, be, new PrintStream(new ByteArrayOutputStream()));
            Map<String, Double> k = r.models().get(0).kernelMsPerStep();
            assertNotNull(k, "no per-kernel times on CUDA");
            // the batch gather and the optimizer by name; the layers' products (and the loss, which
            // rides on the output head's forward launch) by whichever kernels take them, fused or
            // not: at least one forward and one backward kernel more
            for (String name : List.of("gather_step", "adam_multi")) {
                assertTrue(k.containsKey(name), "kernel " + name + " not timed: " + k.keySet());
            }
            assertTrue(k.size() >= 4, "the layers' kernels not timed: " + k.keySet());
            double total = 0;
            for (Map.Entry<String, Double> e : k.entrySet()) {
                assertTrue(Double.isFinite(e.getValue()) && e.getValue() >= 0, e.getKey() + ": " + e.getValue());
                total += e.getValue();
            }
            assertTrue(total > 0, "kernels took no device time at all: " + k);
        }
    }
}

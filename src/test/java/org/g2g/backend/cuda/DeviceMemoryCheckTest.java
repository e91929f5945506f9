package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.g2g.UserError;
import org.g2g.backend.Backend;
import org.g2g.backend.Tensor;
import org.g2g.train.MemoryEstimate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A run is sized against the device's free memory before it allocates: the backend reports
 * what the driver says is free (it must drop by what we allocate), and a need beyond it is a
 * one-line input error naming device memory.
 */
@Tag("gpu")
class DeviceMemoryCheckTest {
    @Test
    void freeDeviceMemoryFollowsAllocationsAndBoundsARun() {
        GpuTests.requireGpu();
        try (Backend be = Cuda.open(0, "custom")) {
            long before = be.deviceMemoryFree();
            assertTrue(before > 0, "free device memory " + before);
            long bytes;
            try (Tensor t = be.tensor(1024, 16 * 1024)) { // 64 MiB of floats
                bytes = 1024L * 16 * 1024 * Float.BYTES;
                long during = be.deviceMemoryFree();
                assertTrue(before - during >= bytes, "free fell by " + (before - during) + ", allocated " + bytes);
            }
            long free = be.deviceMemoryFree();
            MemoryEstimate.refuseIfTooLarge(new MemoryEstimate.Need(0, free / 2, 1), free); // fits: no error
            UserError e = assertThrows(UserError.class,
                    () -> MemoryEstimate.refuseIfTooLarge(new MemoryEstimate.Need(0, free + (1L << 30), 1), free));
            assertTrue(e.getMessage().contains("device memory"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }
}

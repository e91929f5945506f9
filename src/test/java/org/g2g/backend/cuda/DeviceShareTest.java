package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.g2g.backend.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs that share a GPU in one process are each sized against a fair share of its memory, not
 * all of it: announced K runs divide what is free plus what they hold; a sibling allocating within
 * its own share does not shrink mine; the share never exceeds what is actually free, and it is
 * the whole free memory again once the sharing ends.
 */
@Tag("gpu")
class DeviceShareTest {
    private static final long MIB = 1L << 20;

    @Test
    void runsSharingAGpuAreSizedAgainstTheirShare() {
        GpuTests.requireGpu();
        try (CudaBackend a = (CudaBackend) Cuda.open(0, "custom")) {
            assertEquals(a.deviceMemoryFree(), a.memory().freeBytes(), "alone, a run may use all that is free");
            Runnable release = Cuda.shareDevice(0, 4);
            try (CudaBackend b = (CudaBackend) Cuda.open(0, "custom")) {
                assertEquals(4, Cuda.sharers(0));
                long free = a.memory().freeBytes(), held = a.deviceBytes() + b.deviceBytes();
                long shareA = a.deviceMemoryFree(), shareB = b.deviceMemoryFree();
                assertTrue(shareA * 4 <= free + held, "4 shares of " + shareA + " overcommit " + free + " free + " + held + " held");
                assertTrue(shareA >= (free + held) / 4 - a.deviceBytes() - MIB, "share " + shareA + " of " + free + " free");
                try (Tensor t = b.tensor(1024, 16 * 1024)) { // 64 MiB, well inside b's share
                    long after = a.deviceMemoryFree();
                    assertTrue(Math.abs(after - shareA) <= MIB, "a sibling's allocation within its share moved mine from " + shareA + " to " + after);
                    long bAfter = b.deviceMemoryFree();
                    assertTrue(Math.abs(shareB - 64 * MIB - bAfter) <= MIB, "b's allocation comes out of b's share: " + shareB + " -> " + bAfter);
                }
            } finally {
                release.run();
            }
            assertEquals(1, Cuda.sharers(0));
            assertEquals(a.memory().freeBytes(), a.deviceMemoryFree(), "sharing over: all that is free again");
        }
    }
}

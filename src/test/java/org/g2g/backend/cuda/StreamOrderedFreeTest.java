package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.g2g.backend.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Device memory is freed in stream order (cuMemFreeAsync): closing a tensor while queued work
 * still reads it neither waits for that work nor breaks it - the copy queued before the free
 * reads the old contents (the emulated device quarantines the block only when the stream
 * reaches the free, so a free that took effect at once would fault the copy), and a block
 * allocated afterwards works. On the emulated device the allocator must be the stream-ordered
 * one (it has memory pools); a GPU without them falls back to cuMemAlloc/cuMemFree.
 */
@Tag("gpu")
class StreamOrderedFreeTest {
    @Test
    void freeWhileQueuedWorkReadsTheBlock() {
        GpuTests.requireGpu();
        try (CudaBackend be = (CudaBackend) Cuda.open(0, "custom")) {
            float[] v = new float[3 * 40];
            for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 7f;
            Tensor a = be.tensor(3, 40), b = be.tensor(3, 40);
            be.write(a, v);
            int live = be.liveAllocations();
            be.copy(a, b);  // queued on the stream, reads a
            a.close();      // queued behind the copy
            assertEquals(live - 1, be.liveAllocations());
            try (Tensor c = be.tensor(3, 40)) {
                be.copy(b, c);
                assertArrayEquals(v, be.read(c));
            }
            assertArrayEquals(v, be.read(b));
            if (Cuda.probe().gpus().get(0).name().startsWith("CPU emulation")) {
                assertTrue(be.memory().streamOrdered(), "the emulated device has memory pools: cuMemAllocAsync must be used");
            }
            b.close();
        }
    }
}

package org.g2g.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * One device block (cuMemAllocAsync's, or cuMemAlloc's where the device has no memory pools),
 * owned and tracked by a {@link DeviceAllocator}; close() frees it once.
 */
final class DeviceMemory implements AutoCloseable {
    final DeviceAllocator owner;
    final CUdeviceptr ptr;
    final long bytes;
    final String what;
    /** From the stream-ordered allocator: freed with cuMemFreeAsync. */
    final boolean streamOrdered;
    private boolean freed;

    DeviceMemory(DeviceAllocator owner, CUdeviceptr ptr, long bytes, String what, boolean streamOrdered) {
        this.owner = owner;
        this.ptr = ptr;
        this.bytes = bytes;
        this.what = what;
        this.streamOrdered = streamOrdered;
    }

    boolean isFreed() { return freed; }

    /** Called by the owner only: marks freed and says whether it was live. */
    boolean markFreed() {
        if (freed) return false;
        freed = true;
        return true;
    }

    CUdeviceptr ptr() {
        if (freed) throw new IllegalStateException("device memory used after close: " + what);
        return ptr;
    }

    @Override
    public void close() { owner.free(this); }
}

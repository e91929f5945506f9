package org.g2g.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.g2g.backend.IntVector;

/** An int vector in device memory. */
public final class CudaIntVector extends IntVector {
    final DeviceMemory mem;

    CudaIntVector(DeviceMemory mem, int length) {
        super(length);
        this.mem = mem;
    }

    CUdeviceptr ptr() { return mem.ptr(); }

    @Override
    public void close() { mem.close(); }
}

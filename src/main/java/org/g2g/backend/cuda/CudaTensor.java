package org.g2g.backend.cuda;

import jcuda.driver.CUdeviceptr;
import org.g2g.backend.Tensor;

/** A float tensor in device memory: rows x ld floats, row r at byte offset 4 * r * ld. */
public final class CudaTensor extends Tensor {
    final DeviceMemory mem;

    CudaTensor(DeviceMemory mem, int rows, int cols, int ld) {
        super(rows, cols, ld);
        this.mem = mem;
    }

    CUdeviceptr ptr() { return mem.ptr(); }

    /** Elements allocated (rows x ld). */
    long capacity() { return (long) rows * ld; }

    @Override
    public void close() { mem.close(); }
}

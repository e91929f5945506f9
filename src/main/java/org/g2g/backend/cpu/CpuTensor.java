package org.g2g.backend.cpu;

import org.g2g.backend.Tensor;

/** A tensor in a Java float array; row r starts at r * ld. */
public final class CpuTensor extends Tensor {
    public final float[] data;

    public CpuTensor(int rows, int cols, int ld) {
        super(rows, cols, ld);
        this.data = new float[Math.max(1, rows * ld)];
    }

    public static float[] of(Tensor t) { return ((CpuTensor) t).data; }
}

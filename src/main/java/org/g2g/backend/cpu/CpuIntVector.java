package org.g2g.backend.cpu;

import org.g2g.backend.IntVector;

/** An int vector in a Java array. */
public final class CpuIntVector extends IntVector {
    public final int[] data;

    public CpuIntVector(int n) {
        super(n);
        this.data = new int[n];
    }

    public static int[] of(IntVector v) { return ((CpuIntVector) v).data; }
}

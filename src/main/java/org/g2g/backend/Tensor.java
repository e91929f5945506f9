package org.g2g.backend;

/**
 * A row-major float matrix owned by a backend (host array or device memory).
 * Row r starts at element r * ld after a backend-chosen start (CpuTensor.off: an alignment
 * offset); only the first {@code cols} of each row are meaningful.
 * Activations are feature-major: rows = units, cols = batch capacity, so every kernel
 * vectorises along the batch and a sparse edge streams one contiguous activation row.
 */
public abstract class Tensor implements AutoCloseable {
    public final int rows;
    public final int cols;
    public final int ld;

    protected Tensor(int rows, int cols, int ld) {
        if (rows < 0 || cols < 0 || ld < cols) throw new IllegalArgumentException("bad tensor shape");
        this.rows = rows;
        this.cols = cols;
        this.ld = ld;
    }

    public long size() { return (long) rows * cols; }

    /**
     * Row stride for a row of n floats, shared by every backend so host and device tensors
     * line up: padded to 16 floats (64 bytes) and away from 4 KiB multiples.
     */
    public static int paddedLd(int n) {
        if (n <= 1) return Math.max(n, 1);
        int ld = (n + 15) & ~15;
        if ((ld * 4) % 4096 == 0) ld += 16; // 4K aliasing between rows otherwise
        return ld;
    }

    /** Frees device memory; a no-op on the CPU. Idempotent. */
    @Override
    public void close() {}
}

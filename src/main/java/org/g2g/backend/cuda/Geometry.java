package org.g2g.backend.cuda;

/** Launch geometry shared by every kernel wrapper: block counts from work sizes. */
final class Geometry {
    /** Threads per block of the element-wise (grid-stride) kernels. */
    static final int EW_BLOCK = 256;

    private Geometry() {}

    /** ceil(a / b) as a grid dimension; a problem whose grid does not fit an int is refused. */
    static int ceil(long a, int b) {
        long r = (a + b - 1) / b;
        if (r > Integer.MAX_VALUE) throw new IllegalArgumentException("problem too large");
        return (int) r;
    }

    /** Grid-stride kernels: enough blocks of {@code block} threads to fill the GPU, never more than the work. */
    static int strideGrid(long n, int block, int smCount, int blocksPerSm) {
        long blocks = (n + block - 1) / block;
        return (int) Math.max(1, Math.min(blocks, (long) smCount * blocksPerSm));
    }
}

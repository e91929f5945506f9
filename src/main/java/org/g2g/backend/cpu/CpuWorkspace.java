package org.g2g.backend.cpu;

/**
 * Scratch arrays of one {@link CpuBackend}, shared by all its layers (layers run one at a
 * time): activations copied into group order, the inputs transposed, residual weights in CSC
 * order, identity index arrays. They grow to the largest layer and are then reused, so a
 * training step allocates nothing. Grow them only outside parallel regions.
 */
final class CpuWorkspace {
    private float[] x = new float[0], g = new float[0], y = new float[0], xT = new float[0], wT = new float[0];
    private int[] ident = new int[0];

    /** Aligned room for `rows` input rows of stride ld (inputs in group order). */
    float[] x(int rows, int ld) { return x = grow(x, CpuTensor.ALIGN + rows * ld); }

    /** Aligned room for `rows` output-gradient rows of stride ld (in group order). */
    float[] g(int rows, int ld) { return g = grow(g, CpuTensor.ALIGN + rows * ld); }

    /** Aligned room for `rows` output rows of stride ld, summed in group order before the epilogue. */
    float[] y(int rows, int ld) { return y = grow(y, CpuTensor.ALIGN + rows * ld); }

    /** Aligned room for `batch` rows of stride ld (the inputs transposed). */
    float[] xT(int batch, int ld) { return xT = grow(xT, CpuTensor.ALIGN + batch * ld); }

    /** Room for n residual weights in CSC order (the input gradient). */
    float[] wT(int n) { return wT = grow(wT, n); }

    /** 0, 1, 2, ... of at least n entries: an index array over a copy already in group order. */
    int[] identity(int n) {
        if (ident.length < n) {
            ident = new int[n];
            for (int k = 0; k < n; k++) ident[k] = k;
        }
        return ident;
    }

    private static float[] grow(float[] a, int n) { return a.length >= n ? a : new float[n]; }
}

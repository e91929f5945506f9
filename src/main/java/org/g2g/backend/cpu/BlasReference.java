package org.g2g.backend.cpu;

import java.util.Random;

/**
 * OpenBLAS as a yardstick: one sgemm of a layer product's shape, feature-major as the CPU
 * backend stores activations (out x in weights, units x batch activations), for `g2g bench` to
 * time beside the backend's own kernels in the same process. Not a training path: OpenBLAS
 * runs with its own threads here ({@link #threads}), as numpy's or PyTorch's would.
 */
public final class BlasReference {
    private BlasReference() {}

    public enum Op { FORWARD, INPUT_GRAD, WEIGHT_GRAD }

    /** Whether OpenBLAS loaded, and what it is (or why not). */
    public static boolean available() { return NativeBlas.available(); }

    public static String status() { return NativeBlas.STATUS; }

    /** OpenBLAS's own thread count for the calls that follow (training calls use 1; set it back). */
    public static void threads(int n) {
        if (available()) org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(n);
    }

    /**
     * One product of a layer out x in at a batch: forward Y = W X (M=out, N=batch, K=in), input
     * gradient dX = W^T dY (M=in, N=batch, K=out), weight gradient dW = dY X^T (M=out, N=in, K=batch).
     */
    public static Runnable product(Op op, int out, int in, int batch) {
        if (!available()) throw new IllegalStateException(status());
        Random rng = new Random(11);
        float[] w = randoms(out * in, rng), x = randoms(in * batch, rng), g = randoms(out * batch, rng);
        return switch (op) {
            case FORWARD -> {
                float[] y = new float[out * batch];
                yield () -> NativeBlas.sgemm(false, false, out, batch, in, w, 0, in, x, 0, batch, 0f, y, 0, batch);
            }
            case INPUT_GRAD -> {
                float[] dx = new float[in * batch];
                yield () -> NativeBlas.sgemm(true, false, in, batch, out, w, 0, in, g, 0, batch, 0f, dx, 0, batch);
            }
            case WEIGHT_GRAD -> {
                float[] dw = new float[out * in];
                yield () -> NativeBlas.sgemm(false, true, out, in, batch, g, 0, batch, x, 0, batch, 0f, dw, 0, in);
            }
        };
    }

    private static float[] randoms(int n, Random rng) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (float) rng.nextGaussian();
        return a;
    }
}

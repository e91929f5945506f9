package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.Tensor.paddedLd;

import org.g2g.backend.Correlation;
import org.g2g.backend.Tensor;

/**
 * The CPU backend's Hebbian scores: the correlation of every output row with every input row
 * over the batch, as one product (GEMMs over the batch when the input count is a multiple of
 * the vector length, dot-product tiles otherwise), then normalised by the rows' norms.
 * Rows split over the threads statically, so results are bit-identical run to run.
 */
final class CorrelationProduct {
    private final WorkPool pool;

    CorrelationProduct(WorkPool pool) { this.pool = pool; }

    /** Backend.correlation. */
    void scores(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        Kernels.Cols c = new Kernels.Cols(batch);
        int out = y.rows, in = x.rows;
        Tensor ya = y, xa = x;
        if (kind == Correlation.PEARSON) {
            ya = centred(y, batch);
            xa = centred(x, batch);
        } else if (!BatchPadding.fits(y, c) || !BatchPadding.fits(x, c)) {
            ya = BatchPadding.fits(y, c) ? y : BatchPadding.padded(y, batch, true);
            xa = BatchPadding.fits(x, c) ? x : BatchPadding.padded(x, batch, true);
        }
        float[] Y = CpuTensor.of(ya), X = CpuTensor.of(xa), Sc = CpuTensor.of(scores);
        int ldy = ya.ld, ldx = xa.ld;
        int yb = CpuTensor.off(ya), xb = CpuTensor.off(xa), so = CpuTensor.off(scores);
        int[] rIdx = identity(out), cIdx = identity(in);
        float[] ny = new float[out], nx = new float[in];
        boolean norm = kind != Correlation.RAW;
        if (in % L == 0 && batch > 0) {
            // as GEMMs over the batch: X transposed once to batch-major, the vector dimension is
            // the score row's columns; 128-column blocks keep the XT block in L2
            int ldT = paddedLd(in), tb = CpuTensor.ALIGN;
            float[] XT = new float[tb + batch * ldT];
            int[] bIdx = identity(batch);
            pool.run(t -> {
                int b0 = pool.split(batch, t, 1), b1 = pool.split(batch, t + 1, 1);
                for (int i = 0; i < in; i++) {
                    int src = xb + i * ldx;
                    for (int b = b0; b < b1; b++) XT[tb + b * ldT + i] = X[src + b];
                }
                int o0 = pool.split(out, t, 1), o1 = pool.split(out, t + 1, 1);
                int i0 = pool.split(in, t, 1), i1 = pool.split(in, t + 1, 1);
                if (norm) {
                    for (int o = o0; o < o1; o++) ny[o] = Kernels.dot(Y, yb + o * ldy, Y, yb + o * ldy, c);
                    for (int i = i0; i < i1; i++) nx[i] = Kernels.dot(X, xb + i * ldx, X, xb + i * ldx, c);
                }
            });
            pool.run(t -> {
                int r0 = pool.split(out, t, 1), r1 = pool.split(out, t + 1, 1);
                for (int j0 = 0; j0 < in; j0 += CpuPlan.PANEL) {
                    int nc = Math.min(CpuPlan.PANEL, in - j0);
                    Kernels.gemm(Y, yb + r0 * ldy, ldy, 1, batch, bIdx, 0, XT, tb + j0, ldT,
                            rIdx, r0, r1 - r0, Sc, so + j0, in, new Kernels.Cols(nc), false);
                }
            });
        } else pool.run(t -> {
            int r0 = pool.split(out, t, 4), r1 = pool.split(out, t + 1, 4);
            int i0 = pool.split(in, t, 1), i1 = pool.split(in, t + 1, 1);
            if (norm) {
                for (int o = r0; o < r1; o++) ny[o] = Kernels.dot(Y, yb + o * ldy, Y, yb + o * ldy, c);
                for (int i = i0; i < i1; i++) nx[i] = Kernels.dot(X, xb + i * ldx, X, xb + i * ldx, c);
            }
            for (int j0 = 0; j0 < in; j0 += CpuPlan.PANEL) {
                int nc = Math.min(CpuPlan.PANEL, in - j0);
                Kernels.dotTile(Y, yb, ldy, rIdx, r0, r1 - r0, X, xb, ldx, cIdx, j0, nc, Sc, so + r0 * in + j0, in, c);
            }
        });
        if (!norm) return;
        double[] sx = new double[in];
        for (int i = 0; i < in; i++) sx[i] = Math.sqrt(nx[i]);
        pool.run(t -> {
            int r0 = pool.split(out, t, 1), r1 = pool.split(out, t + 1, 1);
            for (int o = r0; o < r1; o++) {
                double sy = Math.sqrt(ny[o]);
                int row = so + o * in;
                for (int i = 0; i < in; i++) Sc[row + i] = (float) (Sc[row + i] / (sy * sx[i] + 1e-8));
            }
        });
    }

    /** Rows minus their mean over the batch, zero past the batch. */
    private CpuTensor centred(Tensor t, int batch) {
        CpuTensor p = new CpuTensor(t.rows, Math.max(batch, 1), paddedLd(Math.max(batch, L)), CpuTensor.ALIGN);
        float[] s = CpuTensor.of(t), d = p.data;
        int so = CpuTensor.off(t);
        for (int r = 0; r < t.rows; r++) {
            double mean = 0;
            for (int b = 0; b < batch; b++) mean += s[so + r * t.ld + b];
            mean /= Math.max(batch, 1);
            for (int b = 0; b < batch; b++) d[p.off + r * p.ld + b] = (float) (s[so + r * t.ld + b] - mean);
        }
        return p;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int k = 0; k < n; k++) a[k] = k;
        return a;
    }
}

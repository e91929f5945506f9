package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.Tensor.paddedLd;

import org.g2g.backend.Tensor;

/**
 * The Vector API kernels read and write whole vectors past the batch's last column
 * ({@link Kernels.Cols#nb}); a tensor whose row stride is shorter is copied into a padded one
 * first and the results copied back.
 */
final class BatchPadding {
    private BatchPadding() {}

    /** True when every vector of the padded batch fits inside the row stride. */
    static boolean fits(Tensor t, Kernels.Cols c) { return t.ld >= c.nb; }

    /** A copy of t's first `batch` columns with a row stride the kernels can use. */
    static CpuTensor padded(Tensor t, int batch, boolean copyIn) {
        CpuTensor p = new CpuTensor(t.rows, Math.max(t.cols, batch), paddedLd(Math.max(Math.max(t.cols, batch), L)), CpuTensor.ALIGN);
        if (copyIn) copyCols(t, p, batch);
        return p;
    }

    static void copyCols(Tensor src, Tensor dst, int batch) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        int so = CpuTensor.off(src), dof = CpuTensor.off(dst);
        for (int r = 0; r < src.rows; r++) System.arraycopy(s, so + r * src.ld, d, dof + r * dst.ld, batch);
    }
}

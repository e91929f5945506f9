package org.g2g.backend.cuda;

import static org.g2g.backend.cuda.Geometry.ceil;

import jcuda.driver.CUdeviceptr;
import org.g2g.backend.Correlation;

/**
 * The Hebbian correlation of a layer's outputs and inputs over a batch on the device: row
 * statistics (row_stats: norms, centred copies for Pearson), then one gemm_nt whose epilogue
 * divides by the product of norms (mode 2); RAW is the plain product.
 */
final class CorrelationKernels {
    private final CudaContext ctx;
    private final DeviceGemm gemm;
    private final CudaWorkspace work;

    CorrelationKernels(CudaContext ctx, DeviceGemm gemm, CudaWorkspace work) {
        this.ctx = ctx;
        this.gemm = gemm;
        this.work = work;
    }

    /** scores (out x in, contiguous) = correlation of Y's and X's rows over the first batch columns. */
    void correlation(CudaTensor Y, CudaTensor X, int batch, Correlation kind, CudaTensor S) {
        int out = Y.rows, in = X.rows;
        if (kind == Correlation.RAW) {
            gemm.gemm("gemm_nt", out, in, batch, 1, Y, Y.ld, 0L, null, 0, X, X.ld, 0L, null, 0,
                    S, in, 0L, null, 0, null, null, null, 0);
            return;
        }
        boolean centre = kind == Correlation.PEARSON;
        DeviceMemory norms = work.norms((long) (out + in) * 4);
        CUdeviceptr normY = norms.ptr(), normX = norms.ptr().withByteOffset((long) out * 4);
        Object a = Y, b = X;
        int lda = Y.ld, ldb = X.ld;
        DeviceMemory centredY = null, centredX = null;
        if (centre) {
            int ld = Math.max(1, batch);
            centredY = work.centredOutputs((long) out * ld * 4);
            centredX = work.centredInputs((long) in * ld * 4);
            a = centredY;
            b = centredX;
            lda = ld;
            ldb = ld;
        }
        ctx.launch("row_stats", ceil(out, 8), 1, 1, 256, 1, out, batch, Y.ptr(), Y.ld, centre, normY,
                centre ? centredY.ptr() : null, lda);
        ctx.launch("row_stats", ceil(in, 8), 1, 1, 256, 1, in, batch, X.ptr(), X.ld, centre, normX,
                centre ? centredX.ptr() : null, ldb);
        gemm.gemm("gemm_nt", out, in, batch, 1, a, lda, 0L, null, 0, b, ldb, 0L, null, 0,
                S, in, 0L, null, 0, null, normY, normX, 2);
    }
}

package org.g2g.backend.cuda;

import static org.g2g.backend.cuda.Geometry.EW_BLOCK;
import static org.g2g.backend.cuda.Geometry.ceil;

import jcuda.driver.CUdeviceptr;

/**
 * A layer's three products on the device, by the kind of its {@link PackedLayout}: a dense
 * layer goes to cuBLAS (or gemm.cu), group blocks to the batched gemm.cu kernels over index
 * lists, edges to our CSR kernels (spmm_rows, edge_grad) or, with the cuSPARSE engine, to
 * cuSPARSE SpMM. Arguments are checked by the caller ({@link CudaBackend}); this class only
 * chooses and queues launches.
 */
final class LayerKernels {
    private final CudaContext ctx;
    private final DeviceGemm gemm;
    private final CudaWorkspace work;

    LayerKernels(CudaContext ctx, DeviceGemm gemm, CudaWorkspace work) {
        this.ctx = ctx;
        this.gemm = gemm;
        this.work = work;
    }

    /** Y = act(W X + b) for the first batch columns. */
    void forward(CudaPlan plan, CudaTensor W, CudaTensor B, CudaTensor X, CudaTensor Y, int batch, boolean relu) {
        PackedLayout l = plan.layout;
        switch (l.kind) {
            case DENSE -> {
                if (gemm.blas() != null) { // column-major view: Y^T (batch x out) = X^T (batch x in) W^T (in x out)
                    gemm.sgemm(false, false, batch, l.out, l.in, X.ptr(), X.ld, W.ptr(), l.in, Y.ptr(), Y.ld);
                } else {
                    gemm.gemm("gemm_nn", l.out, batch, l.in, 1, W, l.in, 0L, null, 0, X, X.ld, 0L, null, 0,
                            Y, Y.ld, 0L, null, 0, null, null, null, 0);
                }
                biasAct(Y, l.out, batch, B, relu);
            }
            case GROUPED -> {
                gemm.gemm("gemm_nn", l.outPer, batch, l.inPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        X, X.ld, 0L, plan.inList, l.inPer,
                        Y, Y.ld, 0L, plan.outList, l.outPer, null, null, null, 0);
                if (ctx.sparse() != null && l.edges > 0) {
                    spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmRows(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, B, Y, true, relu);
                }
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    ctx.memory.zeroColumns(Y, l.out, batch); // then beta = 1: never rely on beta = 0 ignoring NaN in C
                    spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmRows(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, B, Y, false, relu);
                }
            }
        }
    }

    /** dX = W^T dY for the first batch columns. */
    void backwardInput(CudaPlan plan, CudaTensor W, CudaTensor DY, CudaTensor DX, int batch) {
        PackedLayout l = plan.layout;
        switch (l.kind) {
            case DENSE -> {
                if (gemm.blas() != null) { // dX^T (batch x in) = dY^T (batch x out) W (out x in)
                    gemm.sgemm(false, true, batch, l.in, l.out, DY.ptr(), DY.ld, W.ptr(), l.in, DX.ptr(), DX.ld);
                } else {
                    gemm.gemm("gemm_tn", l.in, batch, l.out, 1, W, l.in, 0L, null, 0, DY, DY.ld, 0L, null, 0,
                            DX, DX.ld, 0L, null, 0, null, null, null, 0);
                }
            }
            case GROUPED -> {
                gemm.gemm("gemm_tn", l.inPer, batch, l.outPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        DY, DY.ld, 0L, plan.outList, l.outPer,
                        DX, DX.ld, 0L, plan.inList, l.inPer, null, null, null, 0);
                if (l.edges > 0) {
                    if (ctx.sparse() != null) cusparseInputGrad(l, plan, W, DY, DX, batch);
                    else spmmRows(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, null, DX, true, false);
                }
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    ctx.memory.zeroColumns(DX, l.in, batch);
                    cusparseInputGrad(l, plan, W, DY, DX, batch);
                } else {
                    spmmRows(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, null, DX, false, false);
                }
            }
        }
    }

    /** gW = dY X^T on the active positions (holes of blocks 0), gb = row sums of dY. */
    void weightGrad(CudaPlan plan, CudaTensor X, CudaTensor DY, CudaTensor GW, CudaTensor GB, int batch) {
        PackedLayout l = plan.layout;
        ctx.launch("row_sum", ceil(l.out, 8), 1, 1, 256, 1, l.out, batch, DY.ptr(), DY.ld, GB.ptr());
        switch (l.kind) {
            case DENSE -> {
                if (gemm.blas() != null && batch > 0) { // gW^T (in x out) = X (in x batch as col-major^T) dY^T
                    gemm.sgemm(true, false, l.in, l.out, batch, X.ptr(), X.ld, DY.ptr(), DY.ld, GW.ptr(), l.in);
                } else {
                    gemm.gemm("gemm_nt", l.out, l.in, batch, 1, DY, DY.ld, 0L, null, 0, X, X.ld, 0L, null, 0,
                            GW, l.in, 0L, null, 0, null, null, null, 0);
                }
            }
            case GROUPED -> {
                gemm.gemm("gemm_nt", l.outPer, l.inPer, batch, l.groups,
                        DY, DY.ld, 0L, plan.outList, l.outPer,
                        X, X.ld, 0L, plan.inList, l.inPer,
                        GW, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        plan.blockMask, null, null, plan.blockMask != null ? 1 : 0);
                edgeGrad(l, plan, X, DY, GW, batch);
            }
            case CSR -> edgeGrad(l, plan, X, DY, GW, batch);
        }
    }

    /** y = act(y + b) on the first batch columns (after a library product that has no epilogue). */
    private void biasAct(CudaTensor y, int rows, int batch, CudaTensor bias, boolean relu) {
        long n = (long) rows * batch;
        if (n == 0) return;
        ctx.launch("bias_act", strideGrid(n), 1, 1, EW_BLOCK, 1, rows, batch, y.ptr(), y.ld, bias, relu);
    }

    private void spmmRows(int rows, int batch, Object ptr, Object idx, Object perm, Object vals,
                          CudaTensor src, Object bias, CudaTensor dst, boolean accumulate, boolean relu) {
        if (rows <= 0 || batch <= 0) return;
        ctx.launch("spmm_rows", ceil(rows, 4), ceil(batch, 128), 1, 128, 1,
                rows, batch, ptr, idx, perm, vals, src.ptr(), src.ld, bias, dst.ptr(), dst.ld, accumulate, relu);
    }

    /** C += A B through cuSPARSE, A as CSR (rows x cols, nnz values). */
    private void spmm(int rows, int cols, int nnz, CudaIntVector ptr, CudaIntVector idx, CUdeviceptr vals,
                      CudaTensor b, int batch, CudaTensor c) {
        SparseLib sparse = ctx.sparse();
        ctx.library("cusparse_spmm", () -> sparse.spmm(rows, cols, nnz, ptr, idx, vals, b, batch, c, 1f));
    }

    /** dX += W^T dY on the edges through cuSPARSE: W^T as a CSR (colPtr, cscRow, values permuted). */
    private void cusparseInputGrad(PackedLayout l, CudaPlan plan, CudaTensor W, CudaTensor DY, CudaTensor DX, int batch) {
        DeviceMemory edgesT = work.edgesInCscOrder((long) l.edges * 4);
        ctx.launch("permute_values", strideGrid(l.edges), 1, 1, EW_BLOCK, 1, l.edges, plan.cscPerm, edgeValues(l, W), edgesT);
        spmm(l.in, l.out, l.edges, plan.colPtr, plan.cscRow, edgesT.ptr(), DY, batch, DX);
    }

    private void edgeGrad(PackedLayout l, CudaPlan plan, CudaTensor x, CudaTensor dy, CudaTensor gw, int batch) {
        if (l.edges == 0) return;
        ctx.launch("edge_grad", ceil(l.edges, 8), 1, 1, 256, 1, l.edges, batch, plan.edgeRow, plan.col,
                x.ptr(), x.ld, dy.ptr(), dy.ld, edgeValues(l, gw));
    }

    /** The edge part of a packed vector: after the blocks. */
    private static CUdeviceptr edgeValues(PackedLayout l, CudaTensor packed) {
        return packed.ptr().withByteOffset((long) l.blockTotal * 4);
    }

    private int strideGrid(long n) { return Geometry.strideGrid(n, EW_BLOCK, ctx.smCount(), 16); }
}

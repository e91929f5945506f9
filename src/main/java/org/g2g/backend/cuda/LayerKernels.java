package org.g2g.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static org.g2g.backend.cuda.Geometry.EW_BLOCK;
import static org.g2g.backend.cuda.Geometry.ceil;

import jcuda.driver.CUdeviceptr;

/**
 * A layer's products on the device, by the kind of its {@link CudaLayout}. G2G layers and
 * small dense layers go to layer.cu's fused kernels (see {@link #fused}): one launch forward
 * (products, bias, ReLU), one launch backward (weight, bias and input gradients and the ReLU
 * mask of the layer below). Big dense layers go to cuBLAS; Erdos-Renyi edges to spmm_tiled /
 * edge_grad_tiled (edges.cu); with the cuSPARSE engine, edges go to cuSPARSE SpMM. Arguments
 * are checked by the caller ({@link CudaBackend}); this class only chooses and queues launches.
 */
final class LayerKernels {
    /** Dense layers with at most this many outputs (one GEMM tile row) use layer.cu, not cuBLAS. */
    static final int SMALL_DENSE = 64;

    private final CudaContext ctx;
    private final DeviceGemm gemm;
    private final CudaWorkspace work;
    /**
     * --precision tf32: the group-block GEMMs round their operands to TF32 and multiply them on
     * tensor cores (gemm.cu mode bit 4, layer.cu's tf32). Set once by the backend after its fp32
     * cuBLAS self-check.
     */
    private boolean tf32;

    LayerKernels(CudaContext ctx, DeviceGemm gemm, CudaWorkspace work) {
        this.ctx = ctx;
        this.gemm = gemm;
        this.work = work;
    }

    void useTf32() { tf32 = true; }

    /**
     * Whether a layer's products go to layer.cu's fused kernels: G2G layers unless cuSPARSE
     * takes their edges, and dense layers that are small (the output head, the patch encoder:
     * a bias or ReLU launch of its own costs more than the product there) or have no cuBLAS.
     */
    boolean fused(CudaLayout l) {
        return switch (l.kind) {
            case GROUPED -> ctx.sparse() == null || l.edges == 0;
            case DENSE -> gemm.blas() == null || l.out <= SMALL_DENSE;
            case CSR -> false;
        };
    }

    /** A layer as layer.cu sees it: G groups of outPer x inPer (a dense layer: one group, no lists, no edges). */
    private record Fused(int groups, int outPer, int inPer) {
        static Fused of(CudaLayout l) {
            return l.kind == CudaLayout.Kind.DENSE ? new Fused(1, l.out, l.in) : new Fused(l.groups, l.outPer, l.inPer);
        }
    }

    /** Y = act(W X + b) for the first batch columns. */
    void forward(CudaPlan plan, CudaTensor W, CudaTensor B, CudaTensor X, CudaTensor Y, int batch, boolean relu) {
        CudaLayout l = plan.layout;
        if (fused(l)) {
            Fused f = Fused.of(l);
            ctx.launch("grouped_forward", ceil(batch, 64), ceil(f.outPer, 64), f.groups, 256, 1,
                    f.groups, f.outPer, f.inPer, batch, W.ptr(), plan.outList, plan.inList, plan.rowPtr, plan.col,
                    X.ptr(), X.ld, B.ptr(), Y.ptr(), Y.ld, relu, tf32, null, null, 0, null);
            return;
        }
        switch (l.kind) {
            case DENSE -> { // column-major view: Y^T (batch x out) = X^T (batch x in) W^T (in x out)
                gemm.sgemm(false, false, batch, l.out, l.in, X.ptr(), X.ld, W.ptr(), l.in, Y.ptr(), Y.ld);
                biasAct(Y, l.out, batch, B, relu);
            }
            case GROUPED -> { // cuSPARSE engine
                gemm.gemm("gemm_nn", l.outPer, batch, l.inPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        X, X.ld, 0L, plan.inList, l.inPer,
                        Y, Y.ld, 0L, plan.outList, l.outPer, null, null, null, tf32 ? 4 : 0);
                spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y);
                biasAct(Y, l.out, batch, B, relu);
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    ctx.memory.zeroColumns(Y, l.out, batch); // then beta = 1: never rely on beta = 0 ignoring NaN in C
                    spmm(l.out, l.in, l.edges, plan.rowPtr, plan.col, edgeValues(l, W), X, batch, Y);
                    biasAct(Y, l.out, batch, B, relu);
                } else {
                    spmmTiled(l.out, batch, plan.rowPtr, plan.col, null, edgeValues(l, W), X, l.in, B, Y, false, relu);
                }
            }
        }
    }

    /**
     * Whether the output layer's loss can ride on its forward launch (grouped_forward with labels):
     * a dense layer on layer.cu whose classes fit one tile row, so every block holds whole columns.
     */
    boolean fusesLoss(CudaLayout l) {
        return l.kind == CudaLayout.Kind.DENSE && fused(l) && l.out <= SMALL_DENSE;
    }

    /** Z = W X + b and softmax_xent on Z (dZ when not null, stats) in one launch; see {@link #fusesLoss}. */
    void forwardLoss(CudaPlan plan, CudaTensor W, CudaTensor B, CudaTensor X, CudaTensor Z, CudaIntVector labels,
                     CudaTensor DZ, CudaTensor stats, int batch) {
        CudaLayout l = plan.layout;
        ctx.launch("grouped_forward", ceil(batch, 64), 1, 1, 256, 1,
                1, l.out, l.in, batch, W.ptr(), null, null, null, null, X.ptr(), X.ld, B.ptr(), Z.ptr(), Z.ld, false, tf32,
                labels.ptr(), DZ == null ? null : DZ.ptr(), DZ == null ? 0 : DZ.ld, stats.ptr());
    }

    /** dX = W^T dY for the first batch columns. */
    void backwardInput(CudaPlan plan, CudaTensor W, CudaTensor DY, CudaTensor DX, int batch) {
        CudaLayout l = plan.layout;
        if (fused(l)) {
            fusedBackward(plan, W, DY, DY, null, null, DX, false, batch); // x is read only for the ReLU mask
            return;
        }
        switch (l.kind) {
            case DENSE -> // dX^T (batch x in) = dY^T (batch x out) W (out x in)
                    gemm.sgemm(false, true, batch, l.in, l.out, DY.ptr(), DY.ld, W.ptr(), l.in, DX.ptr(), DX.ld);
            case GROUPED -> { // cuSPARSE engine
                gemm.gemm("gemm_tn", l.inPer, batch, l.outPer, l.groups,
                        W, l.inPer, (long) l.outPer * l.inPer, null, 0,
                        DY, DY.ld, 0L, plan.outList, l.outPer,
                        DX, DX.ld, 0L, plan.inList, l.inPer, null, null, null, tf32 ? 4 : 0);
                cusparseInputGrad(l, plan, W, DY, DX, batch);
            }
            case CSR -> {
                if (ctx.sparse() != null && l.edges > 0) {
                    ctx.memory.zeroColumns(DX, l.in, batch);
                    cusparseInputGrad(l, plan, W, DY, DX, batch);
                } else {
                    spmmTiled(l.in, batch, plan.colPtr, plan.cscRow, plan.cscPerm, edgeValues(l, W), DY, l.out, null, DX, false, false);
                }
            }
        }
    }

    /** gW = dY X^T on the active positions (holes of blocks 0), gb = row sums of dY. */
    void weightGrad(CudaPlan plan, CudaTensor X, CudaTensor DY, CudaTensor GW, CudaTensor GB, int batch) {
        CudaLayout l = plan.layout;
        if (l.kind == CudaLayout.Kind.GROUPED || fused(l)) { // weights and bias in one launch, whatever the engine
            fusedBackward(plan, null, X, DY, GW, GB, null, false, batch);
            return;
        }
        ctx.launch("row_sum", ceil(l.out, 8), 1, 1, 256, 1, l.out, batch, DY.ptr(), DY.ld, GB.ptr());
        if (l.kind == CudaLayout.Kind.CSR) {
            edgeGrad(l, plan, X, DY, GW, batch);
        } else if (batch > 0) { // gW^T (in x out) = X (in x batch as col-major^T) dY^T
            gemm.sgemm(true, false, l.in, l.out, batch, X.ptr(), X.ld, DY.ptr(), DY.ld, GW.ptr(), l.in);
        } else {
            ctx.memory.zero(GW);
        }
    }

    /**
     * weightGrad, backwardInput into dx (when not null) and the ReLU mask of x on dx (when
     * reluX): one launch when the layer is {@link #fused}, else the three in turn.
     */
    void layerBackward(CudaPlan plan, CudaTensor W, CudaTensor X, CudaTensor DY, CudaTensor GW, CudaTensor GB,
                       CudaTensor DX, boolean reluX, int batch, Runnable reluBackward) {
        if (fused(plan.layout)) {
            // an empty batch: zero gradients, dx untouched (as backwardInput)
            fusedBackward(plan, W, X, DY, GW, GB, batch == 0 ? null : DX, reluX, batch);
            return;
        }
        weightGrad(plan, X, DY, GW, GB, batch);
        if (DX != null && batch > 0) {
            backwardInput(plan, W, DY, DX, batch);
            if (reluX) reluBackward.run();
        }
    }

    /**
     * grouped_backward (layer.cu): with gw, the weight and bias gradients; with dx, the input
     * gradient (times [x > 0] when reluX). One launch for either or both. The block weight
     * gradient splits the batch over thread blocks once it is long enough to keep a block busy
     * (split-K over 512-column shares, at most 8: the blocks are zeroed first, partial sums added).
     */
    private void fusedBackward(CudaPlan plan, CudaTensor w, CudaTensor x, CudaTensor dy, CudaTensor gw, CudaTensor gb,
                               CudaTensor dx, boolean reluX, int batch) {
        Fused f = Fused.of(plan.layout);
        long blockPart = (long) f.groups * f.outPer * f.inPer;
        int splits = gw == null ? 1 : Math.max(1, Math.min(8, batch / 512));
        if (splits > 1) cuMemsetD32Async(gw.ptr(), 0, blockPart, ctx.stream);
        long blocks = (gw == null ? 0 : (long) f.groups * ceil(f.outPer, 64) * ceil(f.inPer, 64) * splits
                + ceil((long) f.groups * f.outPer, 32))
                + (dx == null ? 0 : (long) f.groups * ceil(f.inPer, 64) * ceil(batch, 64));
        if (blocks == 0) return;
        ctx.launch("grouped_backward", ceil(blocks, 1), 1, 1, 256, 1, f.groups, f.outPer, f.inPer, batch, splits,
                w == null ? null : w.ptr(), plan.outList, plan.inList, plan.rowPtr, plan.col, plan.colPtr, plan.cscRow,
                plan.cscPerm, x.ptr(), x.ld, dy.ptr(), dy.ld, gw == null ? null : gw.ptr(), gb == null ? null : gb.ptr(),
                plan.blockMask, dx == null ? null : dx.ptr(), dx == null ? 0 : dx.ld, reluX, tf32);
    }

    /** y = act(y + b) on the first batch columns (after a library product that has no epilogue). */
    private void biasAct(CudaTensor y, int rows, int batch, CudaTensor bias, boolean relu) {
        long n = (long) rows * batch;
        if (n == 0) return;
        ctx.launch("bias_act", strideGrid(n), 1, 1, EW_BLOCK, 1, rows, batch, y.ptr(), y.ld, bias, relu);
    }

    /** spmm_tiled (edges.cu): spmm_rows' result bit for bit, the source rows held in shared memory. */
    private void spmmTiled(int rows, int batch, Object ptr, Object idx, Object perm, Object vals, CudaTensor src, int srcRows,
                           Object bias, CudaTensor dst, boolean accumulate, boolean relu) {
        if (rows <= 0 || batch <= 0) return;
        ctx.launch("spmm_tiled", ceil(rows, 32), ceil(batch, 32), 1, 256, 1,
                rows, batch, ptr, idx, perm, vals, src.ptr(), src.ld, srcRows, bias, dst.ptr(), dst.ld, accumulate, relu);
    }

    /** C += A B through cuSPARSE, A as CSR (rows x cols, nnz values). */
    private void spmm(int rows, int cols, int nnz, CudaIntVector ptr, CudaIntVector idx, CUdeviceptr vals,
                      CudaTensor b, int batch, CudaTensor c) {
        SparseLib sparse = ctx.sparse();
        ctx.library("cusparse_spmm", () -> sparse.spmm(rows, cols, nnz, ptr, idx, vals, b, batch, c, 1f));
    }

    /** dX += W^T dY on the edges through cuSPARSE: W^T as a CSR (colPtr, cscRow, values permuted). */
    private void cusparseInputGrad(CudaLayout l, CudaPlan plan, CudaTensor W, CudaTensor DY, CudaTensor DX, int batch) {
        DeviceMemory edgesT = work.edgesInCscOrder((long) l.edges * 4);
        ctx.launch("permute_values", strideGrid(l.edges), 1, 1, EW_BLOCK, 1, l.edges, plan.cscPerm, edgeValues(l, W), edgesT);
        spmm(l.in, l.out, l.edges, plan.colPtr, plan.cscRow, edgesT.ptr(), DY, batch, DX);
    }

    private void edgeGrad(CudaLayout l, CudaPlan plan, CudaTensor x, CudaTensor dy, CudaTensor gw, int batch) {
        if (l.edges == 0) return;
        if (batch == 0) { // edge_grad_tiled writes nothing without a batch column; edge_grad writes the zeros
            ctx.launch("edge_grad", ceil(l.edges, 8), 1, 1, 256, 1, l.edges, batch, plan.edgeRow, plan.col,
                    x.ptr(), x.ld, dy.ptr(), dy.ld, edgeValues(l, gw));
            return;
        }
        ctx.launch("edge_grad_tiled", ceil(l.out, 32), 1, 1, 256, 1, l.out, batch, plan.rowPtr, plan.col,
                x.ptr(), x.ld, l.in, dy.ptr(), dy.ld, edgeValues(l, gw));
    }

    /** The edge part of a packed vector: after the blocks. */
    private static CUdeviceptr edgeValues(CudaLayout l, CudaTensor packed) {
        return packed.ptr().withByteOffset((long) l.blockTotal * 4);
    }

    private int strideGrid(long n) { return Geometry.strideGrid(n, EW_BLOCK, ctx.smCount(), 16); }
}

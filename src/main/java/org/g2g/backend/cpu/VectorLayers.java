package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.Tensor.paddedLd;

import org.g2g.backend.Tensor;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;

/**
 * The CPU backend's layer products with every dense block through the register-tiled Vector
 * API kernels ({@link Kernels}): forward, input gradient and weight gradient of a {@link CpuPlan}.
 * Dense blocks run tile by tile as small GEMMs, residual edges as sparse rows (their weight
 * gradient as a dot product per edge). Forward and weight gradient split row panels over the
 * threads, the input gradient column panels, so every output element has one owner and one
 * summation order. Operands arrive padded to the kernels' stride ({@link CpuBackend} pads them).
 * The OpenBLAS counterpart is {@link BlasLayers}.
 */
final class VectorLayers {
    private final WorkPool pool;
    private final CpuWorkspace work;

    VectorLayers(WorkPool pool, CpuWorkspace work) {
        this.pool = pool;
        this.work = work;
    }

    /** Packed offset of the (row position r, column position j) corner of a tile inside dense block k. */
    private static int tileOff(Block k, int r, int j) { return k.offset() + (r - k.rowStart()) * k.cols() + (j - k.colStart()); }

    /** Backend.forward over inputs already padded to the kernels' stride. */
    void forward(CpuPlan p, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu, Kernels.Cols c) {
        GroupedLayout l = p.layout;
        float[] W = CpuTensor.of(w), B = CpuTensor.of(bias), Y = CpuTensor.of(y);
        int ldx = x.ld, ldy = y.ld;
        int wo = CpuTensor.off(w), bo = CpuTensor.off(bias), yb = CpuTensor.off(y);
        // inputs in group order: a block's rows are then contiguous, whatever the grouping
        float[] X = l.colIdentity ? CpuTensor.of(x) : permutedCopy(x, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? CpuTensor.off(x) : CpuTensor.ALIGN;
        int[] kIdx = l.colIdentity ? l.colOrder : work.identity(p.in), spOff = p.edgeOffsets(l.colIdentity ? l.edgeCol : l.edgeColPos, ldx);
        pool.run(t -> {
            for (int rp = p.fwdSplit[t]; rp < p.fwdSplit[t + 1]; rp++) {
                int r0 = p.rpStart[rp], nr = p.rpStart[rp + 1] - r0;
                boolean first = true;
                for (int b : p.rowBlocks[p.rpGroup[rp]]) {
                    Block k = p.block(b);
                    for (int cp = 0; cp < p.nCp; cp++) {
                        if (p.cpGroup[cp] != k.colGroup()) continue;
                        int j0 = p.cpStart[cp], tc = p.cpStart[cp + 1] - j0;
                        Kernels.gemm(W, wo + tileOff(k, r0, j0), k.cols(), 1, tc, kIdx, j0, X, xb, ldx,
                                l.rowOrder, r0, nr, Y, yb, ldy, c, !first);
                        first = false;
                    }
                }
                // residual edges panel by panel (the panel's X rows stay in L1), or each row whole, then bias, ReLU, flush
                if (p.wholeRows[rp]) {
                    if (p.rowPanelEdges(rp) > 0) {
                        for (int r = r0; r < r0 + nr; r++) {
                            int q = r * (p.nCp + 1);
                            SparseKernels.sparseRow(W, wo + l.edgeBase, spOff, p.rowPanelPtr[q], p.rowPanelPtr[q + p.nCp], X, xb,
                                    Y, yb + l.rowOrder[r] * ldy, !first, c);
                        }
                        first = false;
                    }
                } else for (int cp = 0; cp < p.nCp; cp++) {
                    if (p.tileEdges[rp * p.nCp + cp] == 0) continue;
                    for (int r = r0; r < r0 + nr; r++) {
                        int q = r * (p.nCp + 1) + cp;
                        SparseKernels.sparseRow(W, wo + l.edgeBase, spOff, p.rowPanelPtr[q], p.rowPanelPtr[q + 1], X, xb,
                                Y, yb + l.rowOrder[r] * ldy, !first, c);
                    }
                    first = false;
                }
                for (int r = r0; r < r0 + nr; r++) {
                    int o = l.rowOrder[r];
                    Kernels.finishRow(Y, yb + o * ldy, !first, B[bo + o], relu, c);
                }
            }
        });
    }

    /** dst row k = src row perm[k] (the padded batch columns), rows split over the threads; returns dst. */
    private float[] permutedCopy(Tensor src, int[] perm, float[] dst, Kernels.Cols c) {
        float[] s = CpuTensor.of(src);
        int so = CpuTensor.off(src), ld = src.ld, n = perm.length, cols = c.nb;
        pool.run(t -> {
            int k0 = pool.split(n, t, 1), k1 = pool.split(n, t + 1, 1);
            for (int k = k0; k < k1; k++) System.arraycopy(s, so + perm[k] * ld, dst, CpuTensor.ALIGN + k * ld, cols);
        });
        return dst;
    }

    /** Backend.backwardInput over gradients already padded to the kernels' stride. */
    void backwardInput(CpuPlan p, Tensor w, Tensor dy, Tensor dx, int batch, Kernels.Cols c) {
        GroupedLayout l = p.layout;
        float[] W = CpuTensor.of(w), D = CpuTensor.of(dx);
        int ldg = dy.ld, ldd = dx.ld;
        int wo = CpuTensor.off(w), db = CpuTensor.off(dx);
        // output gradients in group order: a block's rows are then contiguous, whatever the grouping
        float[] G = l.rowIdentity ? CpuTensor.of(dy) : permutedCopy(dy, l.rowOrder, work.g(p.out, ldg), c);
        int gb = l.rowIdentity ? CpuTensor.off(dy) : CpuTensor.ALIGN;
        int[] kIdx = l.rowIdentity ? l.rowOrder : work.identity(p.out), spOff = p.edgeOffsets(l.rowIdentity ? l.cscRow : l.cscRowPos, ldg);
        float[] wT = work.wT(l.edges);
        pool.run(t -> {
            int cpa = p.bwdSplit[t], cpb = p.bwdSplit[t + 1];
            // this thread's columns' residual weights, gathered into CSC order
            for (int q = l.colPtr[p.cpStart[cpa]]; q < l.colPtr[p.cpStart[cpb]]; q++) {
                wT[q] = W[wo + l.edgeBase + l.cscEdge[q]];
            }
            for (int cp = cpa; cp < cpb; cp++) {
                int j0 = p.cpStart[cp], nc = p.cpStart[cp + 1] - j0;
                boolean first = true;
                for (int b : p.colBlocks[p.cpGroup[cp]]) {
                    Block k = p.block(b);
                    for (int rp = 0; rp < p.nRp; rp++) {
                        if (p.rpGroup[rp] != k.rowGroup()) continue;
                        int r0 = p.rpStart[rp], tr = p.rpStart[rp + 1] - r0;
                        Kernels.gemm(W, wo + tileOff(k, r0, j0), 1, k.cols(), tr, kIdx, r0, G, gb, ldg,
                                l.colOrder, j0, nc, D, db, ldd, c, !first);
                        first = false;
                    }
                }
                if (p.wholeCols[cp]) {
                    if (p.colPanelEdges(cp) > 0) {
                        for (int j = j0; j < j0 + nc; j++) {
                            int q = j * (p.nRp + 1);
                            SparseKernels.sparseRow(wT, 0, spOff, p.colPanelPtr[q], p.colPanelPtr[q + p.nRp], G, gb,
                                    D, db + l.colOrder[j] * ldd, !first, c);
                        }
                        first = false;
                    }
                } else for (int rp = 0; rp < p.nRp; rp++) {
                    if (p.tileEdges[rp * p.nCp + cp] == 0) continue;
                    for (int j = j0; j < j0 + nc; j++) {
                        int q = j * (p.nRp + 1) + rp;
                        SparseKernels.sparseRow(wT, 0, spOff, p.colPanelPtr[q], p.colPanelPtr[q + 1], G, gb,
                                D, db + l.colOrder[j] * ldd, !first, c);
                    }
                    first = false;
                }
                for (int j = j0; j < j0 + nc; j++) Kernels.finishRow(D, db + l.colOrder[j] * ldd, !first, 0f, false, c);
            }
        });
    }

    /** Zeroes the holes of dense block b inside packed range [from, to) of GW. */
    private static void zeroHoles(GroupedLayout l, int b, float[] GW, int gwo, int from, int to) {
        int lo = java.util.Arrays.binarySearch(l.holePos, l.holePtr[b], l.holePtr[b + 1], from);
        if (lo < 0) lo = -lo - 1;
        for (int h = lo; h < l.holePtr[b + 1] && l.holePos[h] < to; h++) GW[gwo + l.holePos[h]] = 0f;
    }

    /** Backend.weightGrad over operands already padded to the kernels' stride. */
    void weightGrad(CpuPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch, Kernels.Cols c) {
        GroupedLayout l = p.layout;
        float[] G = CpuTensor.of(dy), GW = CpuTensor.of(gw), GB = CpuTensor.of(gb);
        int ldx = x.ld, ldg = dy.ld;
        int gb0 = CpuTensor.off(dy), gwo = CpuTensor.off(gw), gbo = CpuTensor.off(gb);
        if (p.denseShare > 0.5 && batch > 0) {
            weightGradTransposed(p, x, dy, gw, gb, batch);
            return;
        }
        float[] X = l.colIdentity ? CpuTensor.of(x) : permutedCopy(x, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? CpuTensor.off(x) : CpuTensor.ALIGN;
        int[] cIdx = l.colIdentity ? l.colOrder : work.identity(p.in), spOff = p.edgeOffsets(l.colIdentity ? l.edgeCol : l.edgeColPos, ldx);
        pool.run(t -> {
            for (int rp = p.fwdSplit[t]; rp < p.fwdSplit[t + 1]; rp++) {
                int r0 = p.rpStart[rp], nr = p.rpStart[rp + 1] - r0;
                // column panel by column panel, so the X rows a panel reads (PANEL x batch) stay in L2
                for (int cp = 0; cp < p.nCp; cp++) {
                    int j0 = p.cpStart[cp], tc = p.cpStart[cp + 1] - j0;
                    int b = l.blockAt[p.rpGroup[rp] * l.colGroups() + p.cpGroup[cp]];
                    if (b >= 0) {
                        Block k = p.block(b);
                        int off = tileOff(k, r0, j0);
                        Kernels.dotTile(G, gb0, ldg, l.rowOrder, r0, nr, X, xb, ldx, cIdx, j0, tc, GW, gwo + off, k.cols(), c);
                    } else if (!p.wholeRows[rp]) {
                        for (int r = r0; r < r0 + nr; r++) {
                            int q = r * (p.nCp + 1) + cp;
                            SparseKernels.sparseDots(G, gb0 + l.rowOrder[r] * ldg, spOff, p.rowPanelPtr[q], p.rowPanelPtr[q + 1],
                                    X, xb, GW, gwo + l.edgeBase, c);
                        }
                    }
                }
                if (p.wholeRows[rp]) {
                    for (int r = r0; r < r0 + nr; r++) {
                        int q = r * (p.nCp + 1);
                        SparseKernels.sparseDots(G, gb0 + l.rowOrder[r] * ldg, spOff, p.rowPanelPtr[q], p.rowPanelPtr[q + p.nCp],
                                X, xb, GW, gwo + l.edgeBase, c);
                    }
                }
                zeroBlockHoles(p, rp, GW, gwo);
                for (int r = r0; r < r0 + nr; r++) {
                    int o = l.rowOrder[r];
                    GB[gbo + o] = batch > 0 ? Kernels.sum(G, gb0 + o * ldg, c) : 0f;
                }
            }
        });
    }

    /** Zeroes the holes of the dense blocks in row panel rp's rows. */
    static void zeroBlockHoles(CpuPlan p, int rp, float[] GW, int gwo) {
        int r0 = p.rpStart[rp], r1 = p.rpStart[rp + 1];
        for (int b : p.rowBlocks[p.rpGroup[rp]]) {
            Block k = p.block(b);
            zeroHoles(p.layout, b, GW, gwo, tileOff(k, r0, k.colStart()), tileOff(k, r1, k.colStart()));
        }
    }

    /**
     * Weight gradient of mostly dense layers (dense baselines, the head) as GEMMs over the batch:
     * gW_tile = dY_tile (rows x batch) . X^T (batch x tile columns), with X transposed once into
     * batch-major XT so the vector dimension is the tile's columns and the register-tiled
     * {@link Kernels#gemm} applies (about 1.7x the dot-product form, which must reduce lanes).
     * Tiles whose width is not a multiple of the vector length, and residual edges, keep the dot form.
     */
    private void weightGradTransposed(CpuPlan p, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        GroupedLayout l = p.layout;
        Kernels.Cols c = new Kernels.Cols(batch);
        float[] X = CpuTensor.of(x), GW = CpuTensor.of(gw), GB = CpuTensor.of(gb);
        int ldx = x.ld, ldg = dy.ld, xb = CpuTensor.off(x), gwo = CpuTensor.off(gw), gbo = CpuTensor.off(gb);
        int in = p.in, ldT = paddedLd(in), tb = CpuTensor.ALIGN;
        float[] XT = work.xT(batch, ldT);
        float[] G = l.rowIdentity ? CpuTensor.of(dy) : permutedCopy(dy, l.rowOrder, work.g(p.out, ldg), c);
        int gpb = l.rowIdentity ? CpuTensor.off(dy) : CpuTensor.ALIGN;
        // XT[b][j] = X[colOrder[j]][b], blocks of 16 inputs so each batch row is written in runs
        pool.run(t -> {
            int b0 = pool.split(batch, t, 1), b1 = pool.split(batch, t + 1, 1);
            int[] src = new int[16];
            for (int j0 = 0; j0 < in; j0 += 16) {
                int nj = Math.min(16, in - j0);
                for (int q = 0; q < nj; q++) src[q] = xb + l.colOrder[j0 + q] * ldx;
                for (int b = b0; b < b1; b++) {
                    int d = tb + b * ldT + j0;
                    for (int q = 0; q < nj; q++) XT[d + q] = X[src[q] + b];
                }
            }
        });
        int[] spOff = p.edgeOffsets(l.edgeCol, ldx);
        // the product's k runs over the batch, which may exceed the widths
        int[] ident = work.identity(Math.max(batch, Math.max(p.out, p.in)));
        pool.run(t -> {
            for (int rp = p.fwdSplit[t]; rp < p.fwdSplit[t + 1]; rp++) {
                int r0 = p.rpStart[rp], nr = p.rpStart[rp + 1] - r0;
                for (int cp = 0; cp < p.nCp; cp++) {
                    int j0 = p.cpStart[cp], tc = p.cpStart[cp + 1] - j0;
                    int b = l.blockAt[p.rpGroup[rp] * l.colGroups() + p.cpGroup[cp]];
                    if (b >= 0) {
                        Block k = p.block(b);
                        int off = gwo + tileOff(k, r0, j0);
                        if (tc % L == 0) {
                            Kernels.gemm(G, gpb + r0 * ldg, ldg, 1, batch, ident, 0, XT, tb + j0, ldT,
                                    ident, 0, nr, GW, off, k.cols(), new Kernels.Cols(tc), false);
                            for (int r = 0; r < nr; r++) {
                                for (int q = off + r * k.cols(); q < off + r * k.cols() + tc; q++) GW[q] = Kernels.flush(GW[q]);
                            }
                        } else {
                            Kernels.dotTile(G, gpb, ldg, ident, r0, nr, X, xb, ldx, l.colOrder, j0, tc, GW, off, k.cols(), c);
                        }
                    } else {
                        for (int r = r0; r < r0 + nr; r++) {
                            int q = r * (p.nCp + 1) + cp;
                            SparseKernels.sparseDots(G, gpb + r * ldg, spOff, p.rowPanelPtr[q], p.rowPanelPtr[q + 1],
                                    X, xb, GW, gwo + l.edgeBase, c);
                        }
                    }
                }
                zeroBlockHoles(p, rp, GW, gwo);
                for (int r = r0; r < r0 + nr; r++) GB[gbo + l.rowOrder[r]] = Kernels.sum(G, gpb + r * ldg, c);
            }
        });
    }
}

package org.g2g.backend.cpu;

import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;

/**
 * The CPU backend's layer products with the dense blocks through OpenBLAS ({@link NativeBlas}).
 *
 * Each worker takes its static share of panels (as with the Vector API kernels), joins the
 * consecutive panels of one group into a run, and multiplies every dense block of that group
 * as one sgemm over the run: a dense 1024-wide layer is one product per worker, a G2G diagonal
 * block one 128x128 product. Operands must be contiguous rows, so activations are taken in
 * group order (the permuted copies the Vector path also makes), and outputs of a permuted side
 * are summed in a scratch in group order and written to their units by the epilogue.
 * Residual edges keep the Vector API kernels ({@link SparseKernels}).
 * Only batch columns are read and written: padding may hold anything.
 */
final class BlasLayers {
    private final WorkPool pool;
    private final CpuWorkspace work;
    /** Fully dense layers whose panels leave a worker idle, or with a tiny side: split another way. */
    private final DenseSplit dense;

    BlasLayers(WorkPool pool, CpuWorkspace work) {
        this.pool = pool;
        this.work = work;
        this.dense = new DenseSplit(pool, work);
    }

    private static int tileOff(Block k, int r, int j) { return k.offset() + (r - k.rowStart()) * k.cols() + (j - k.colStart()); }

    /** End of the run of panels from `from` (below `to`) that share panel `from`'s group. */
    private static int runEnd(int[] group, int from, int to) {
        int e = from + 1;
        while (e < to && group[e] == group[from]) e++;
        return e;
    }

    /** x, y, ... : CpuBackend's forward, inputs already padded to the kernels' stride. */
    void forward(CpuPlan p, float[] W, int wo, float[] B, int bo, float[] Xs, int xsb, int ldx,
                 float[] Y, int yb, int ldy, int batch, boolean relu, Kernels.Cols c) {
        Block dk = DenseSplit.denseBlock(p);
        DenseSplit.Choice ch = dk == null ? null : DenseSplit.forward(p, pool.threads);
        if (ch != null && ch.split() != DenseSplit.Split.ROWS) {
            dense.forward(ch, dk, W, wo, B, bo, Xs, xsb, ldx, Y, yb, ldy, batch, relu);
            return;
        }
        GroupedLayout l = p.layout;
        float[] X = l.colIdentity ? Xs : permuted(Xs, xsb, ldx, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? xsb : CpuTensor.ALIGN;
        int[] spOff = p.edgeOffsets(l.colIdentity ? l.edgeCol : l.edgeColPos, ldx);
        float[] S = l.rowIdentity ? Y : work.y(p.out, ldy);
        int sb = l.rowIdentity ? yb : CpuTensor.ALIGN;
        pool.run(t -> {
            for (int rp = p.fwdSplit[t], end = p.fwdSplit[t + 1]; rp < end; ) {
                int re = runEnd(p.rpGroup, rp, end), r0 = p.rpStart[rp], r1 = p.rpStart[re];
                boolean first = true;
                for (int b : p.rowBlocks[p.rpGroup[rp]]) {
                    Block k = p.block(b);
                    NativeBlas.sgemm(false, false, r1 - r0, batch, k.cols(), W, wo + tileOff(k, r0, k.colStart()), k.cols(),
                            X, xb + k.colStart() * ldx, ldx, first ? 0f : 1f, S, sb + r0 * ldy, ldy);
                    first = false;
                }
                for (int q = rp; q < re; q++) {
                    if (p.wholeRows[q]) { // few edges a row: each row's edges in one walk (CpuPlan.wholeRows)
                        if (p.rowPanelEdges(q) > 0) {
                            for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                                int i = r * (p.nCp + 1);
                                SparseKernels.sparseRow(W, wo + l.edgeBase, spOff, p.rowPanelPtr[i], p.rowPanelPtr[i + p.nCp], X, xb,
                                        S, sb + r * ldy, !first, c);
                            }
                        }
                    } else for (int cp = 0; cp < p.nCp; cp++) {
                        if (p.tileEdges[q * p.nCp + cp] == 0) continue;
                        for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                            int i = r * (p.nCp + 1) + cp;
                            SparseKernels.sparseRow(W, wo + l.edgeBase, spOff, p.rowPanelPtr[i], p.rowPanelPtr[i + 1], X, xb,
                                    S, sb + r * ldy, !first || edgesBefore(p, q, cp), c);
                        }
                    }
                    boolean init = !first || p.rowPanelEdges(q) > 0;
                    for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                        int o = l.rowOrder[r];
                        Kernels.finishRow(S, sb + r * ldy, Y, yb + o * ldy, init, B[bo + o], relu, c);
                    }
                }
                rp = re;
            }
        });
    }

    /** True when row panel q has residual edges in a column panel before cp (its rows already hold a sum). */
    private static boolean edgesBefore(CpuPlan p, int q, int cp) {
        for (int k = 0; k < cp; k++) if (p.tileEdges[q * p.nCp + k] > 0) return true;
        return false;
    }

    void backwardInput(CpuPlan p, float[] W, int wo, float[] Gs, int gsb, int ldg, float[] D, int db, int ldd,
                       int batch, Kernels.Cols c) {
        Block dk = DenseSplit.denseBlock(p);
        DenseSplit.Choice ch = dk == null ? null : DenseSplit.backwardInput(p, pool.threads);
        if (ch != null && ch.split() != DenseSplit.Split.ROWS) {
            dense.backwardInput(ch, dk, W, wo, Gs, gsb, ldg, D, db, ldd, batch);
            return;
        }
        GroupedLayout l = p.layout;
        float[] G = l.rowIdentity ? Gs : permuted(Gs, gsb, ldg, l.rowOrder, work.g(p.out, ldg), c);
        int gb = l.rowIdentity ? gsb : CpuTensor.ALIGN;
        int[] spOff = p.edgeOffsets(l.rowIdentity ? l.cscRow : l.cscRowPos, ldg);
        float[] S = l.colIdentity ? D : work.y(p.in, ldd);
        int sb = l.colIdentity ? db : CpuTensor.ALIGN;
        float[] wT = work.wT(l.edges);
        pool.run(t -> {
            int cpa = p.bwdSplit[t], cpb = p.bwdSplit[t + 1];
            for (int q = l.colPtr[p.cpStart[cpa]]; q < l.colPtr[p.cpStart[cpb]]; q++) wT[q] = W[wo + l.edgeBase + l.cscEdge[q]];
            for (int cp = cpa; cp < cpb; ) {
                int ce = runEnd(p.cpGroup, cp, cpb), j0 = p.cpStart[cp], j1 = p.cpStart[ce];
                boolean first = true;
                for (int b : p.colBlocks[p.cpGroup[cp]]) {
                    Block k = p.block(b);
                    NativeBlas.sgemm(true, false, j1 - j0, batch, k.rows(), W, wo + tileOff(k, k.rowStart(), j0), k.cols(),
                            G, gb + k.rowStart() * ldg, ldg, first ? 0f : 1f, S, sb + j0 * ldd, ldd);
                    first = false;
                }
                for (int q = cp; q < ce; q++) {
                    boolean init = !first;
                    if (p.wholeCols[q]) { // few edges a column: each column's edges in one walk (CpuPlan.wholeCols)
                        if (p.colPanelEdges(q) > 0) {
                            for (int j = p.cpStart[q]; j < p.cpStart[q + 1]; j++) {
                                int i = j * (p.nRp + 1);
                                SparseKernels.sparseRow(wT, 0, spOff, p.colPanelPtr[i], p.colPanelPtr[i + p.nRp], G, gb,
                                        S, sb + j * ldd, init, c);
                            }
                            init = true;
                        }
                    } else for (int rp = 0; rp < p.nRp; rp++) {
                        if (p.tileEdges[rp * p.nCp + q] == 0) continue;
                        for (int j = p.cpStart[q]; j < p.cpStart[q + 1]; j++) {
                            int i = j * (p.nRp + 1) + rp;
                            SparseKernels.sparseRow(wT, 0, spOff, p.colPanelPtr[i], p.colPanelPtr[i + 1], G, gb,
                                    S, sb + j * ldd, init, c);
                        }
                        init = true;
                    }
                    for (int j = p.cpStart[q]; j < p.cpStart[q + 1]; j++) {
                        Kernels.finishRow(S, sb + j * ldd, D, db + l.colOrder[j] * ldd, init, 0f, false, c);
                    }
                }
                cp = ce;
            }
        });
    }

    void weightGrad(CpuPlan p, float[] Xs, int xsb, int ldx, float[] Gs, int gsb, int ldg,
                    float[] GW, int gwo, float[] GB, int gbo, int batch, Kernels.Cols c) {
        Block dk = DenseSplit.denseBlock(p);
        DenseSplit.Choice ch = dk == null || batch <= 0 ? null : DenseSplit.weightGrad(p, pool.threads);
        if (ch != null && ch.split() != DenseSplit.Split.ROWS) {
            dense.weightGrad(ch, dk, Xs, xsb, ldx, Gs, gsb, ldg, GW, gwo, GB, gbo, batch, c);
            return;
        }
        GroupedLayout l = p.layout;
        float[] X = l.colIdentity ? Xs : permuted(Xs, xsb, ldx, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? xsb : CpuTensor.ALIGN;
        float[] G = l.rowIdentity ? Gs : permuted(Gs, gsb, ldg, l.rowOrder, work.g(p.out, ldg), c);
        int gb = l.rowIdentity ? gsb : CpuTensor.ALIGN;
        int[] spOff = p.edgeOffsets(l.colIdentity ? l.edgeCol : l.edgeColPos, ldx);
        pool.run(t -> {
            for (int rp = p.fwdSplit[t], end = p.fwdSplit[t + 1]; rp < end; ) {
                int re = runEnd(p.rpGroup, rp, end), r0 = p.rpStart[rp], r1 = p.rpStart[re];
                for (int b : p.rowBlocks[p.rpGroup[rp]]) {
                    Block k = p.block(b);
                    int off = gwo + tileOff(k, r0, k.colStart());
                    NativeBlas.sgemm(false, true, r1 - r0, k.cols(), batch, G, gb + r0 * ldg, ldg,
                            X, xb + k.colStart() * ldx, ldx, 0f, GW, off, k.cols());
                    Kernels.flushRange(GW, off, (r1 - r0) * k.cols());
                }
                for (int q = rp; q < re; q++) {
                    if (p.wholeRows[q]) {
                        for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                            int i = r * (p.nCp + 1);
                            SparseKernels.sparseDots(G, gb + r * ldg, spOff, p.rowPanelPtr[i], p.rowPanelPtr[i + p.nCp],
                                    X, xb, GW, gwo + l.edgeBase, c);
                        }
                    } else for (int cp = 0; cp < p.nCp; cp++) {
                        if (p.tileEdges[q * p.nCp + cp] == 0) continue;
                        for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                            int i = r * (p.nCp + 1) + cp;
                            SparseKernels.sparseDots(G, gb + r * ldg, spOff, p.rowPanelPtr[i], p.rowPanelPtr[i + 1],
                                    X, xb, GW, gwo + l.edgeBase, c);
                        }
                    }
                    VectorLayers.zeroBlockHoles(p, q, GW, gwo);
                    for (int r = p.rpStart[q]; r < p.rpStart[q + 1]; r++) {
                        GB[gbo + l.rowOrder[r]] = batch > 0 ? Kernels.sum(G, gb + r * ldg, c) : 0f;
                    }
                }
                rp = re;
            }
        });
    }

    /** dst row k = src row perm[k] (the padded batch columns), rows split over the threads; returns dst. */
    private float[] permuted(float[] s, int so, int ld, int[] perm, float[] dst, Kernels.Cols c) {
        int n = perm.length, cols = c.nb;
        pool.run(t -> {
            int k0 = pool.split(n, t, 1), k1 = pool.split(n, t + 1, 1);
            for (int k = k0; k < k1; k++) System.arraycopy(s, so + perm[k] * ld, dst, CpuTensor.ALIGN + k * ld, cols);
        });
        return dst;
    }
}

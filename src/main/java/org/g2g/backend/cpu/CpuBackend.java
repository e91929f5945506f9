package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.cpu.Kernels.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;
import org.g2g.model.Mask;

/**
 * The fast CPU backend: block-masked layers ({@link CpuPlan} over the shared {@link GroupedLayout}:
 * dense group blocks as small GEMMs, the rest as sparse edges) with register-tiled Vector API kernels ({@link Kernels}),
 * on a fixed pool of threads with static work partitioning, so results are bit-identical
 * run to run for a given thread count.
 *
 * Partitioning: forward and weight gradient split row panels, the input gradient splits
 * column panels, so every output element has one owner and one summation order.
 * Denormals: activations, input gradients, ReLU-masked gradients and weight gradients are
 * flushed below 1e-30 (Java cannot set FTZ); Adam flushes its state like {@link HostOps}.
 *
 * JVM flags: --add-modules jdk.incubator.vector (required); -XX:ObjectAlignmentInBytes=64 (rows
 * start on 64-byte boundaries only then, see {@link CpuTensor}; ~30% on the sparse kernels);
 * -XX:+UseParallelGC.
 */
public final class CpuBackend extends HostOps implements Backend {
    private final WorkPool pool;
    private final CpuWorkspace work = new CpuWorkspace();

    /** Non-null when OpenBLAS multiplies the dense blocks. */
    private final BlasLayers blas;

    /** With the dense engine the environment asks for ({@link DenseEngine#fromEnvironment()}). */
    public CpuBackend(int threads) { this(threads, DenseEngine.fromEnvironment()); }

    /** OPENBLAS falls back to the Vector API kernels where OpenBLAS does not load ({@link #description()} says so). */
    public CpuBackend(int threads, DenseEngine engine) {
        int n = threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.pool = new WorkPool(n);
        this.blas = engine == DenseEngine.OPENBLAS && NativeBlas.available() ? new BlasLayers(pool, work) : null;
    }

    /** Who multiplies the dense blocks in this backend. */
    public DenseEngine denseEngine() { return blas != null ? DenseEngine.OPENBLAS : DenseEngine.VECTOR; }

    public int threads() { return pool.threads; }

    @Override public String name() { return "cpu"; }

    @Override
    public String description() {
        return "CPU (" + System.getProperty("os.arch") + "), " + pool.threads + " threads, Vector API "
                + S.vectorBitSize() + "-bit (" + L + " floats), rows 64-byte aligned: "
                + (objectAlignment() >= 64 ? "yes" : "no (pass -XX:ObjectAlignmentInBytes=64, ~30% faster)")
                + "; dense blocks: " + (blas != null ? NativeBlas.STATUS : "Vector API kernels"
                        + (DenseEngine.fromEnvironment() == DenseEngine.OPENBLAS ? " (" + NativeBlas.STATUS + ")" : ""));
    }

    /** The JVM's object alignment: rows are 64-byte aligned only when objects are. */
    static int objectAlignment() {
        try {
            var hs = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Integer.parseInt(hs.getVMOption("ObjectAlignmentInBytes").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 8;
        }
    }

    // ---- layers ----

    @Override
    public LayerPlan plan(Mask mask) { return new CpuPlan(mask, pool.threads); }

    private static CpuPlan cp(LayerPlan p) {
        if (!(p instanceof CpuPlan b)) throw new IllegalArgumentException("plan was not made by CpuBackend");
        return b;
    }

    @Override
    public void pack(LayerPlan lp, float[] dense, Tensor packed) {
        cp(lp).layout.pack(dense, CpuTensor.of(packed), CpuTensor.off(packed));
    }

    @Override
    public float[] unpack(LayerPlan lp, Tensor packed) {
        CpuPlan p = cp(lp);
        float[] dense = new float[p.out * p.in];
        p.layout.unpack(CpuTensor.of(packed), CpuTensor.off(packed), dense);
        return dense;
    }

    /** True when every vector of the padded batch fits inside the row stride. */
    private static boolean fits(Tensor t, Kernels.Cols c) { return t.ld >= c.nb; }

    /** A copy of t's first `batch` columns with a row stride the kernels can use. */
    private CpuTensor padded(Tensor t, int batch, boolean copyIn) {
        CpuTensor p = new CpuTensor(t.rows, Math.max(t.cols, batch), paddedLd(Math.max(Math.max(t.cols, batch), L)), CpuTensor.ALIGN);
        if (copyIn) copyCols(t, p, batch);
        return p;
    }

    private static void copyCols(Tensor src, Tensor dst, int batch) {
        float[] s = CpuTensor.of(src), d = CpuTensor.of(dst);
        int so = CpuTensor.off(src), dof = CpuTensor.off(dst);
        for (int r = 0; r < src.rows; r++) System.arraycopy(s, so + r * src.ld, d, dof + r * dst.ld, batch);
    }

    /** Packed offset of the (row position r, column position j) corner of a tile inside dense block k. */
    private static int tileOff(Block k, int r, int j) { return k.offset() + (r - k.rowStart()) * k.cols() + (j - k.colStart()); }

    @Override
    public void forward(LayerPlan lp, Tensor w, Tensor bias, Tensor x, Tensor y, int batch, boolean relu) {
        CpuPlan p = cp(lp);
        GroupedLayout l = p.layout;
        Kernels.Cols c = new Kernels.Cols(batch);
        if (batch <= 0) return;
        if (!fits(x, c) || !fits(y, c)) {
            Tensor xp = fits(x, c) ? x : padded(x, batch, true);
            Tensor yp = fits(y, c) ? y : padded(y, batch, false);
            forward(lp, w, bias, xp, yp, batch, relu);
            if (yp != y) copyCols(yp, y, batch);
            return;
        }
        float[] W = CpuTensor.of(w), B = CpuTensor.of(bias), Y = CpuTensor.of(y);
        int ldx = x.ld, ldy = y.ld;
        int wo = CpuTensor.off(w), bo = CpuTensor.off(bias), yb = CpuTensor.off(y);
        if (blas != null) {
            blas.forward(p, W, wo, B, bo, CpuTensor.of(x), CpuTensor.off(x), ldx, Y, yb, ldy, batch, relu, c);
            return;
        }
        // inputs in group order: a block's rows are then contiguous, whatever the grouping
        float[] X = l.colIdentity ? CpuTensor.of(x) : permutedCopy(x, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? CpuTensor.off(x) : CpuTensor.ALIGN;
        int[] kIdx = l.colIdentity ? l.colOrder : work.identity(p.in), spIdx = l.colIdentity ? l.edgeCol : l.edgeColPos;
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
                // residual edges panel by panel (the panel's X rows stay in L1), then bias, ReLU, flush
                for (int cp = 0; cp < p.nCp; cp++) {
                    if (p.tileEdges[rp * p.nCp + cp] == 0) continue;
                    for (int r = r0; r < r0 + nr; r++) {
                        int q = r * (p.nCp + 1) + cp;
                        Kernels.sparseRow(W, wo + l.edgeBase, spIdx, p.rowPanelPtr[q], p.rowPanelPtr[q + 1], X, xb, ldx,
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

    @Override
    public void backwardInput(LayerPlan lp, Tensor w, Tensor dy, Tensor dx, int batch) {
        CpuPlan p = cp(lp);
        GroupedLayout l = p.layout;
        Kernels.Cols c = new Kernels.Cols(batch);
        if (batch <= 0) return;
        if (!fits(dy, c) || !fits(dx, c)) {
            Tensor gp = fits(dy, c) ? dy : padded(dy, batch, true);
            Tensor xp = fits(dx, c) ? dx : padded(dx, batch, false);
            backwardInput(lp, w, gp, xp, batch);
            if (xp != dx) copyCols(xp, dx, batch);
            return;
        }
        float[] W = CpuTensor.of(w), D = CpuTensor.of(dx);
        int ldg = dy.ld, ldd = dx.ld;
        int wo = CpuTensor.off(w), db = CpuTensor.off(dx);
        if (blas != null) {
            blas.backwardInput(p, W, wo, CpuTensor.of(dy), CpuTensor.off(dy), ldg, D, db, ldd, batch, c);
            return;
        }
        // output gradients in group order: a block's rows are then contiguous, whatever the grouping
        float[] G = l.rowIdentity ? CpuTensor.of(dy) : permutedCopy(dy, l.rowOrder, work.g(p.out, ldg), c);
        int gb = l.rowIdentity ? CpuTensor.off(dy) : CpuTensor.ALIGN;
        int[] kIdx = l.rowIdentity ? l.rowOrder : work.identity(p.out), spIdx = l.rowIdentity ? l.cscRow : l.cscRowPos;
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
                for (int rp = 0; rp < p.nRp; rp++) {
                    if (p.tileEdges[rp * p.nCp + cp] == 0) continue;
                    for (int j = j0; j < j0 + nc; j++) {
                        int q = j * (p.nRp + 1) + rp;
                        Kernels.sparseRow(wT, 0, spIdx, p.colPanelPtr[q], p.colPanelPtr[q + 1], G, gb, ldg,
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

    @Override
    public void weightGrad(LayerPlan lp, Tensor x, Tensor dy, Tensor gw, Tensor gb, int batch) {
        CpuPlan p = cp(lp);
        GroupedLayout l = p.layout;
        Kernels.Cols c = new Kernels.Cols(batch);
        if (!fits(x, c) || !fits(dy, c)) {
            weightGrad(lp, fits(x, c) ? x : padded(x, batch, true), fits(dy, c) ? dy : padded(dy, batch, true),
                    gw, gb, batch);
            return;
        }
        float[] G = CpuTensor.of(dy), GW = CpuTensor.of(gw), GB = CpuTensor.of(gb);
        int ldx = x.ld, ldg = dy.ld;
        int gb0 = CpuTensor.off(dy), gwo = CpuTensor.off(gw), gbo = CpuTensor.off(gb);
        if (blas != null) {
            blas.weightGrad(p, CpuTensor.of(x), CpuTensor.off(x), ldx, G, gb0, ldg, GW, gwo, GB, gbo, batch, c);
            return;
        }
        if (p.denseShare > 0.5 && batch > 0) {
            weightGradTransposed(p, x, dy, gw, gb, batch);
            return;
        }
        float[] X = l.colIdentity ? CpuTensor.of(x) : permutedCopy(x, l.colOrder, work.x(p.in, ldx), c);
        int xb = l.colIdentity ? CpuTensor.off(x) : CpuTensor.ALIGN;
        int[] cIdx = l.colIdentity ? l.colOrder : work.identity(p.in), spIdx = l.colIdentity ? l.edgeCol : l.edgeColPos;
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
                    } else {
                        for (int r = r0; r < r0 + nr; r++) {
                            int q = r * (p.nCp + 1) + cp;
                            Kernels.sparseDots(G, gb0 + l.rowOrder[r] * ldg, spIdx, p.rowPanelPtr[q], p.rowPanelPtr[q + 1],
                                    X, xb, ldx, GW, gwo + l.edgeBase, c);
                        }
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
        int[] spIdx = l.edgeCol;
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
                            Kernels.sparseDots(G, gpb + r * ldg, spIdx, p.rowPanelPtr[q], p.rowPanelPtr[q + 1],
                                    X, xb, ldx, GW, gwo + l.edgeBase, c);
                        }
                    }
                }
                zeroBlockHoles(p, rp, GW, gwo);
                for (int r = r0; r < r0 + nr; r++) GB[gbo + l.rowOrder[r]] = Kernels.sum(G, gpb + r * ldg, c);
            }
        });
    }

    @Override
    public void correlation(Tensor y, Tensor x, int batch, Correlation kind, Tensor scores) {
        Kernels.Cols c = new Kernels.Cols(batch);
        int out = y.rows, in = x.rows;
        Tensor ya = y, xa = x;
        if (kind == Correlation.PEARSON) {
            ya = centred(y, batch);
            xa = centred(x, batch);
        } else if (!fits(y, c) || !fits(x, c)) {
            ya = fits(y, c) ? y : padded(y, batch, true);
            xa = fits(x, c) ? x : padded(x, batch, true);
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

    // ---- O(params) and O(units x batch) ops ----

    @Override
    public void reluBackward(Tensor y, Tensor dy, int batch) {
        float[] A = CpuTensor.of(y), G = CpuTensor.of(dy);
        int rows = y.rows, lda = y.ld, ldg = dy.ld, ao = CpuTensor.off(y), go = CpuTensor.off(dy);
        int full = batch / L * L;
        pool.run(t -> {
            int r0 = pool.split(rows, t, 1), r1 = pool.split(rows, t + 1, 1);
            for (int r = r0; r < r1; r++) {
                int ya = ao + r * lda, ga = go + r * ldg;
                for (int b = 0; b < full; b += L) {
                    FloatVector a = FloatVector.fromArray(S, A, ya + b);
                    FloatVector g = FloatVector.fromArray(S, G, ga + b);
                    g = g.blend(0f, a.compare(VectorOperators.LE, 0f).or(g.abs().compare(VectorOperators.LT, Kernels.TINY)));
                    g.intoArray(G, ga + b);
                }
                for (int b = full; b < batch; b++) {
                    if (A[ya + b] <= 0f || Math.abs(G[ga + b]) < Kernels.TINY) G[ga + b] = 0f;
                }
            }
        });
    }

    /** Vector Adam, elementwise identical to {@link HostOps#adam} (same operation order, no fused multiply-add). */
    @Override
    public void adam(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
                     float eps, float weightDecay, long t) {
        float[] W = CpuTensor.of(w), G = CpuTensor.of(g), M = CpuTensor.of(m), V = CpuTensor.of(v);
        float bc1 = (float) (1 - Math.pow(beta1, t));
        float bc2 = (float) (1 - Math.pow(beta2, t));
        float step = lr / bc1;
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
        float ob1 = 1 - beta1, ob2 = 1 - beta2;
        int n = (int) w.size();
        int wo = CpuTensor.off(w), go = CpuTensor.off(g), mo = CpuTensor.off(m), vo = CpuTensor.off(v);
        int parts = n < 1 << 15 ? 1 : pool.threads;
        java.util.function.IntConsumer body = part -> {
            int k0 = (int) ((long) n * part / parts) / L * L;
            int k1 = part == parts - 1 ? n : (int) ((long) n * (part + 1) / parts) / L * L;
            int k = k0;
            for (; k + L <= k1; k += L) {
                FloatVector wk = FloatVector.fromArray(S, W, wo + k);
                FloatVector gk = FloatVector.fromArray(S, G, go + k).add(wk.mul(weightDecay));
                FloatVector mk = FloatVector.fromArray(S, M, mo + k).mul(beta1).add(gk.mul(ob1));
                FloatVector vk = FloatVector.fromArray(S, V, vo + k).mul(beta2).add(gk.mul(ob2).mul(gk));
                mk = mk.blend(0f, mk.abs().compare(VectorOperators.LT, 1e-30f));
                vk = vk.blend(0f, vk.compare(VectorOperators.LT, 1e-30f));
                mk.intoArray(M, mo + k);
                vk.intoArray(V, vo + k);
                wk.sub(mk.mul(step).div(vk.sqrt().mul(invSqrtBc2).add(eps))).intoArray(W, wo + k);
            }
            adamRange(W, wo, G, go, M, mo, V, vo, k, k1, beta1, beta2, eps, weightDecay, step, invSqrtBc2);
        };
        if (parts == 1) body.accept(0);
        else pool.run(p -> { if (p < parts) body.accept(p); });
    }

    /** Gathers by blocks of 8 samples so each feature row of x is written in runs. */
    @Override
    public void gather(Tensor images, IntVector labels, IntVector order, int offset, int batch, Tensor x, IntVector yb) {
        float[] src = CpuTensor.of(images), dst = CpuTensor.of(x);
        int[] lab = CpuIntVector.of(labels), ord = CpuIntVector.of(order), out = CpuIntVector.of(yb);
        int f = images.cols, lds = images.ld, ldx = x.ld, io = CpuTensor.off(images), xo = CpuTensor.off(x);
        for (int b = 0; b < batch; b++) out[b] = lab[ord[offset + b]];
        pool.run(t -> {
            int f0 = pool.split(f, t, 16), f1 = pool.split(f, t + 1, 16);
            int[] base = new int[8];
            for (int b0 = 0; b0 < batch; b0 += 8) {
                int nbk = Math.min(8, batch - b0);
                for (int q = 0; q < nbk; q++) base[q] = io + ord[offset + b0 + q] * lds;
                for (int k = f0; k < f1; k++) {
                    int d = xo + k * ldx + b0;
                    for (int q = 0; q < nbk; q++) dst[d + q] = src[base[q] + k];
                }
            }
        });
    }

    @Override
    public void close() { pool.close(); }
}

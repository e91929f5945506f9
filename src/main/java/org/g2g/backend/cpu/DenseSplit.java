package org.g2g.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.backend.layout.GroupedLayout.Block;

/**
 * How the products of a fully dense layer (one block, no residual edge, units in their own
 * order: the dense baselines, the patch encoder, the output layer) are split over the workers,
 * and who multiplies each share, when the row panels {@link BlasLayers} splits by do not give
 * every worker a share: the encoder's 32 x 49 product over 16 patches x batch columns and the
 * 10-unit head are one panel each, so one worker held the whole product.
 *
 * Forward and input gradient split the batch columns (each output element still has one owner
 * and sums its k in one order); the weight gradient splits dW's columns when there are enough
 * of them, else the batch (each worker sums its batch slice into a scratch, and the slices are
 * added in worker order: bit-identical for a given thread count, like every other split here).
 * A product with a side of at most {@link #SMALL} (M or K) runs on our Vector API kernels:
 * OpenBLAS packs the whole other operand for those few rows (twice our kernels' time on the
 * head's forward), and with a small K the product costs less than a second pass over its
 * output, so the input gradient's kernel flushes as it stores ({@link #transposedFlushed}).
 *
 * OpenBLAS column shares are cut in chunks whose output stays in L2, and each chunk gets its
 * epilogue (bias, ReLU, flush) right after its product, so the epilogue re-reads cached rows.
 * These layers are a few percent of a step's FLOPs but ran at 40-55% of OpenBLAS's rate on
 * one worker (issue 13's GEMM table).
 */
final class DenseSplit {
    /** How one product is shared: ROWS is {@link BlasLayers}' own panel split. */
    enum Split { ROWS, COLUMNS, DEPTH }

    /** Who multiplies a share. */
    enum Engine { OPENBLAS, VECTOR }

    /** One product's split and engine. */
    record Choice(Split split, Engine engine) {}

    /**
     * A product whose M or K is at most this runs on our Vector API kernels. Measured with both
     * workers (2-core AMD EPYC, AVX2, 2026-12-07): head forward (M 10, K 1024) 63-70 GFLOP/s
     * against OpenBLAS's 37 with both threads; encoder forward (M 32, K 49) 92-95 against our
     * OpenBLAS split's 79; head input gradient (K 10) 61-78 against 51 through OpenBLAS.
     */
    static final int SMALL = 32;
    /** Output floats of one OpenBLAS column chunk (64 KiB): product then epilogue while it sits in L2. */
    static final int CHUNK_FLOATS = 16384;
    /** dW columns per worker from which the weight gradient splits dW's columns rather than the batch. */
    static final int MIN_SPLIT_COLS = 64;

    private final WorkPool pool;
    private final CpuWorkspace work;
    private float[][] partial = new float[0][];

    DenseSplit(WorkPool pool, CpuWorkspace work) {
        this.pool = pool;
        this.work = work;
    }

    /** The one dense block of a layer that is nothing else, or null. */
    static Block denseBlock(CpuPlan p) {
        GroupedLayout l = p.layout;
        if (l.edges != 0 || l.blocks.size() != 1 || !l.rowIdentity || !l.colIdentity) return null;
        Block k = l.blocks.get(0);
        if (k.rows() != l.out || k.cols() != l.in || l.holePtr[1] != l.holePtr[0]) return null;
        return k;
    }

    /** Forward Y = W X (M = out, K = in): by batch columns unless the row panels give every worker a share. */
    static Choice forward(CpuPlan p, int threads) { return columnsOrPanels(p.out, p.in, p.nRp, threads); }

    /** Input gradient dX = W^T dY (M = in, K = out): by batch columns unless the column panels give every worker a share. */
    static Choice backwardInput(CpuPlan p, int threads) { return columnsOrPanels(p.in, p.out, p.nCp, threads); }

    private static Choice columnsOrPanels(int m, int k, int panels, int threads) {
        if (Math.min(m, k) <= SMALL) return new Choice(Split.COLUMNS, Engine.VECTOR);
        return new Choice(panels < threads ? Split.COLUMNS : Split.ROWS, Engine.OPENBLAS);
    }

    /** Weight gradient dW = dY X^T (M = out, N = in, K = batch): dW's rows, else its columns, else the batch. */
    static Choice weightGrad(CpuPlan p, int threads) {
        if (p.nRp >= threads) return new Choice(Split.ROWS, Engine.OPENBLAS);
        return new Choice(p.in >= MIN_SPLIT_COLS * threads ? Split.COLUMNS : Split.DEPTH, Engine.OPENBLAS);
    }

    /** Batch columns per chunk for an output of `rows` rows: a multiple of two vectors. */
    private static int chunk(int rows) {
        int step = 2 * Kernels.L;
        return Math.max(step, CHUNK_FLOATS / Math.max(1, rows) / step * step);
    }

    /** Y = act(W X + bias) over batch columns split between the workers (choice.split() == COLUMNS). */
    void forward(Choice ch, Block k, float[] W, int wo, float[] B, int bo, float[] X, int xb, int ldx,
                 float[] Y, int yb, int ldy, int batch, boolean relu) {
        int out = k.rows(), in = k.cols(), w0 = wo + k.offset(), step = chunk(out);
        int[] ident = work.identity(Math.max(out, in));
        pool.run(t -> {
            int b0 = pool.split(batch, t, 2 * Kernels.L), b1 = pool.split(batch, t + 1, 2 * Kernels.L);
            for (int c0 = b0; c0 < b1; c0 += step) {
                int n = Math.min(step, b1 - c0);
                Kernels.Cols cc = new Kernels.Cols(n);
                if (ch.engine() == Engine.VECTOR) {
                    Kernels.gemm(W, w0, in, 1, in, ident, 0, X, xb + c0, ldx, ident, 0, out, Y, yb + c0, ldy, cc, false);
                } else {
                    NativeBlas.sgemm(false, false, out, n, in, W, w0, in, X, xb + c0, ldx, 0f, Y, yb + c0, ldy);
                }
                for (int r = 0; r < out; r++) Kernels.finishRow(Y, yb + r * ldy + c0, true, B[bo + r], relu, cc);
            }
        });
    }

    /** dX = W^T dY over batch columns split between the workers. */
    void backwardInput(Choice ch, Block k, float[] W, int wo, float[] G, int gb, int ldg, float[] D, int db, int ldd, int batch) {
        int out = k.rows(), in = k.cols(), w0 = wo + k.offset();
        // the Vector kernel flushes as it stores: no second pass, so no chunks
        int step = ch.engine() == Engine.VECTOR ? Math.max(1, batch) : chunk(in);
        pool.run(t -> {
            int b0 = pool.split(batch, t, 2 * Kernels.L), b1 = pool.split(batch, t + 1, 2 * Kernels.L);
            for (int c0 = b0; c0 < b1; c0 += step) {
                int n = Math.min(step, b1 - c0);
                Kernels.Cols cc = new Kernels.Cols(n);
                if (ch.engine() == Engine.VECTOR) {
                    transposedFlushed(W, w0, in, out, G, gb + c0, ldg, in, D, db + c0, ldd, cc);
                } else {
                    NativeBlas.sgemm(true, false, in, n, out, W, w0, in, G, gb + c0, ldg, 0f, D, db + c0, ldd);
                    for (int j = 0; j < in; j++) Kernels.finishRow(D, db + j * ldd + c0, true, 0f, false, cc);
                }
            }
        });
    }

    /** dW = dY X^T split by dW's columns (COLUMNS) or by the batch (DEPTH); the bias gradient by rows. */
    void weightGrad(Choice ch, Block k, float[] X, int xb, int ldx, float[] G, int gb, int ldg,
                    float[] GW, int gwo, float[] GB, int gbo, int batch, Kernels.Cols c) {
        int out = k.rows(), in = k.cols(), w0 = gwo + k.offset();
        int parts = pool.threads;
        if (ch.split() == Split.DEPTH && partial.length < parts) partial = new float[parts][];
        if (ch.split() == Split.DEPTH) {
            for (int t = 0; t < parts; t++) {
                if (partial[t] == null || partial[t].length < out * in) partial[t] = new float[out * in];
            }
        }
        float[][] part = partial;
        pool.run(t -> {
            if (ch.split() == Split.COLUMNS) {
                int j0 = pool.split(in, t, Kernels.L), j1 = pool.split(in, t + 1, Kernels.L);
                if (j1 > j0) {
                    NativeBlas.sgemm(false, true, out, j1 - j0, batch, G, gb, ldg, X, xb + j0 * ldx, ldx, 0f, GW, w0 + j0, in);
                    for (int r = 0; r < out; r++) Kernels.flushRange(GW, w0 + r * in + j0, j1 - j0);
                }
            } else {
                int b0 = pool.split(batch, t, 2 * Kernels.L), b1 = pool.split(batch, t + 1, 2 * Kernels.L);
                if (b1 > b0) NativeBlas.sgemm(false, true, out, in, b1 - b0, G, gb + b0, ldg, X, xb + b0, ldx, 0f, part[t], 0, in);
            }
            int r0 = pool.split(out, t, 1), r1 = pool.split(out, t + 1, 1);
            for (int r = r0; r < r1; r++) GB[gbo + r] = Kernels.sum(G, gb + r * ldg, c);
        });
        if (ch.split() == Split.DEPTH) {
            // the slices' sums in worker order, elements split between the workers
            pool.run(t -> {
                int e0 = pool.split(out * in, t, Kernels.L), e1 = pool.split(out * in, t + 1, Kernels.L);
                boolean first = true;
                for (int s = 0; s < parts; s++) {
                    if (pool.split(batch, s, 2 * Kernels.L) == pool.split(batch, s + 1, 2 * Kernels.L)) continue;
                    if (first) System.arraycopy(part[s], e0, GW, w0 + e0, e1 - e0);
                    else for (int e = e0; e < e1; e++) GW[w0 + e] += part[s][e];
                    first = false;
                }
                if (first) java.util.Arrays.fill(GW, w0 + e0, w0 + e1, 0f);
                Kernels.flushRange(GW, w0 + e0, e1 - e0);
            });
        }
    }

    /**
     * D[j][b] = flush(sum_k W[k][j] G[k][b]) for j < n, the rows of W^T read down W's columns
     * (W row stride ldw, K = nk rows): the input gradient of a layer with few outputs, whose
     * product is cheaper than a second pass over its output, so the flush rides on the store.
     * 4 rows x 2 vectors of accumulators; one G load feeds 4 FMAs.
     */
    static void transposedFlushed(float[] W, int w0, int ldw, int nk, float[] G, int gb, int ldg,
                                  int n, float[] D, int d0, int ldd, Kernels.Cols c) {
        final int L = Kernels.L, nb = c.nb;
        final jdk.incubator.vector.VectorSpecies<Float> S = Kernels.S;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            int o0 = d0 + j * ldd, o1 = o0 + ldd, o2 = o1 + ldd, o3 = o2 + ldd;
            int b = 0;
            for (; b + 2 * L <= nb; b += 2 * L) {
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int k = 0; k < nk; k++) {
                    int go = gb + k * ldg + b, wk = w0 + k * ldw + j;
                    FloatVector g0 = FloatVector.fromArray(S, G, go), g1 = FloatVector.fromArray(S, G, go + L);
                    FloatVector w = FloatVector.broadcast(S, W[wk]);
                    a00 = g0.fma(w, a00); a01 = g1.fma(w, a01);
                    w = FloatVector.broadcast(S, W[wk + 1]);
                    a10 = g0.fma(w, a10); a11 = g1.fma(w, a11);
                    w = FloatVector.broadcast(S, W[wk + 2]);
                    a20 = g0.fma(w, a20); a21 = g1.fma(w, a21);
                    w = FloatVector.broadcast(S, W[wk + 3]);
                    a30 = g0.fma(w, a30); a31 = g1.fma(w, a31);
                }
                Kernels.store(Kernels.flush(a00), D, o0, b, c); Kernels.store(Kernels.flush(a01), D, o0, b + L, c);
                Kernels.store(Kernels.flush(a10), D, o1, b, c); Kernels.store(Kernels.flush(a11), D, o1, b + L, c);
                Kernels.store(Kernels.flush(a20), D, o2, b, c); Kernels.store(Kernels.flush(a21), D, o2, b + L, c);
                Kernels.store(Kernels.flush(a30), D, o3, b, c); Kernels.store(Kernels.flush(a31), D, o3, b + L, c);
            }
            if (b < nb) for (int q = 0; q < 4; q++) transposedRow(W, w0 + j + q, ldw, nk, G, gb, ldg, D, d0 + (j + q) * ldd, b, c);
        }
        for (; j < n; j++) transposedRow(W, w0 + j, ldw, nk, G, gb, ldg, D, d0 + j * ldd, 0, c);
    }

    /** One row of {@link #transposedFlushed} from batch column b0 on, a vector at a time. */
    private static void transposedRow(float[] W, int wj, int ldw, int nk, float[] G, int gb, int ldg,
                                      float[] D, int o, int b0, Kernels.Cols c) {
        for (int b = b0; b < c.nb; b += Kernels.L) {
            FloatVector a = FloatVector.zero(Kernels.S);
            for (int k = 0; k < nk; k++) {
                a = FloatVector.fromArray(Kernels.S, G, gb + k * ldg + b).fma(FloatVector.broadcast(Kernels.S, W[wj + k * ldw]), a);
            }
            Kernels.store(Kernels.flush(a), D, o, b, c);
        }
    }
}

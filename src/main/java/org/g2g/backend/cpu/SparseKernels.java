package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.Kernels.L;
import static org.g2g.backend.cpu.Kernels.S;
import static org.g2g.backend.cpu.Kernels.flush;
import static org.g2g.backend.cpu.Kernels.load;
import static org.g2g.backend.cpu.Kernels.store;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The residual-edge kernels of {@link CpuBackend}: edges outside the dense diagonal blocks, held as
 * CSR (forward, weight gradient) or CSC (input gradient) index lists. Same layout rules as
 * {@link Kernels}: activations feature-major, row u at u * ld holding the batch, nb = batch padded
 * to the vector length.
 *
 * Edges name their input row by its element offset, the row's index times X's row stride
 * ({@link CpuPlan#edgeOffsets}), not by the index: with the index, the loop also carries the stride,
 * and C2, short of registers, reloads the stride, the weight offset and the loop bound from the stack
 * on every edge (the forward's edge loop over a 1024-wide ER 0.10 layer, one thread: about 9% slower;
 * a few percent of a whole layer's phase; docs/measurements-cpu-edges.md).
 *
 * Every edge reads one activation row (one load per multiply-add, nothing to share between edges
 * of a random mask), so these run at L2 speed, not at the FMA units' (single thread, one 1024x1024
 * G2G layer's 137k residual edges, batch 256, 2-core AMD EPYC with AVX2: forward ~36 GFLOP/s,
 * weight gradient ~30, against 87 for FMAs on registers and 47 for the forward with its inputs
 * folded into L1). Measured and dropped (docs/measurements-cpu.md): batch-sliced walks over a
 * compact L1 copy of a panel, 8 edges per weight-gradient group, a transposed lane reduction
 * through blends and shuffles, 2 edges per loop iteration, 2 accumulators per edge.
 */
final class SparseKernels {
    private SparseKernels() {}

    /**
     * One output row's edges inside one column panel: y[b] = (init ? y[b] : 0) + sum_e W[wb+e] * X[xb + off[e] + b]
     * over e in [e0, e1), off[e] = (the edge's input row) x (X's row stride). A chunk of 8 vectors of the
     * output row stays in registers while the edges are walked (one broadcast and 8 load+FMA pairs per edge). Called panel by panel, so the X rows one
     * panel's edges touch (128 rows x 256 bytes per chunk) stay in L2 across the panel's rows.
     * Same per-lane summation order (edges in order) on both paths, so the same numbers.
     */
    static void sparseRow(float[] W, int wb, int[] off, int e0, int e1, float[] X, int xb,
                          float[] Y, int yo, boolean init, Kernels.Cols c) {
        if (c.tail == null && c.nb % (8 * L) == 0) {
            // the common case (batch a multiple of 64): no tail, no init branch in the loop, about 10% faster
            if (!init) Arrays.fill(Y, yo, yo + c.nb, 0f);
            rowChunks(W, wb, off, e0, e1, X, xb, Y, yo, c.nb);
        } else {
            rowAny(W, wb, off, e0, e1, X, xb, Y, yo, init, c);
        }
    }

    /** y[b] += sum_e W[wb+e] * X[xb + off[e] + b] for b < nb, nb a multiple of 8 vectors. */
    private static void rowChunks(float[] W, int wb, int[] off, int e0, int e1, float[] X, int xb,
                                  float[] Y, int yo, int nb) {
        // kept free of the bias/ReLU epilogue and of branches: with more nodes C2 stops inlining the
        // Vector API calls of this 8-accumulator loop and boxes vectors, 50x slower
        for (int b = 0; b + 8 * L <= nb; b += 8 * L) {
            int y = yo + b, xc = xb + b;
            FloatVector a0 = FloatVector.fromArray(S, Y, y), a1 = FloatVector.fromArray(S, Y, y + L);
            FloatVector a2 = FloatVector.fromArray(S, Y, y + 2 * L), a3 = FloatVector.fromArray(S, Y, y + 3 * L);
            FloatVector a4 = FloatVector.fromArray(S, Y, y + 4 * L), a5 = FloatVector.fromArray(S, Y, y + 5 * L);
            FloatVector a6 = FloatVector.fromArray(S, Y, y + 6 * L), a7 = FloatVector.fromArray(S, Y, y + 7 * L);
            for (int e = e0; e < e1; e++) {
                int xo = xc + off[e];
                FloatVector w = FloatVector.broadcast(S, W[wb + e]);
                a0 = FloatVector.fromArray(S, X, xo).fma(w, a0);
                a1 = FloatVector.fromArray(S, X, xo + L).fma(w, a1);
                a2 = FloatVector.fromArray(S, X, xo + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(S, X, xo + 3 * L).fma(w, a3);
                a4 = FloatVector.fromArray(S, X, xo + 4 * L).fma(w, a4);
                a5 = FloatVector.fromArray(S, X, xo + 5 * L).fma(w, a5);
                a6 = FloatVector.fromArray(S, X, xo + 6 * L).fma(w, a6);
                a7 = FloatVector.fromArray(S, X, xo + 7 * L).fma(w, a7);
            }
            a0.intoArray(Y, y); a1.intoArray(Y, y + L); a2.intoArray(Y, y + 2 * L); a3.intoArray(Y, y + 3 * L);
            a4.intoArray(Y, y + 4 * L); a5.intoArray(Y, y + 5 * L); a6.intoArray(Y, y + 6 * L); a7.intoArray(Y, y + 7 * L);
        }
    }

    /** Any batch: 8-vector chunks, then single vectors; the last vector's store keeps the padding. */
    private static void rowAny(float[] W, int wb, int[] off, int e0, int e1, float[] X, int xb,
                               float[] Y, int yo, boolean init, Kernels.Cols c) {
        final int nb = c.nb;
        int b = 0;
        for (; b + 8 * L <= nb; b += 8 * L) {
            FloatVector a0, a1, a2, a3, a4, a5, a6, a7;
            int y = yo + b;
            if (init) {
                a0 = FloatVector.fromArray(S, Y, y); a1 = FloatVector.fromArray(S, Y, y + L);
                a2 = FloatVector.fromArray(S, Y, y + 2 * L); a3 = FloatVector.fromArray(S, Y, y + 3 * L);
                a4 = FloatVector.fromArray(S, Y, y + 4 * L); a5 = FloatVector.fromArray(S, Y, y + 5 * L);
                a6 = FloatVector.fromArray(S, Y, y + 6 * L); a7 = FloatVector.fromArray(S, Y, y + 7 * L);
            } else {
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = FloatVector.zero(S);
            }
            for (int e = e0; e < e1; e++) {
                int xo = xb + off[e] + b;
                FloatVector w = FloatVector.broadcast(S, W[wb + e]);
                a0 = FloatVector.fromArray(S, X, xo).fma(w, a0);
                a1 = FloatVector.fromArray(S, X, xo + L).fma(w, a1);
                a2 = FloatVector.fromArray(S, X, xo + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(S, X, xo + 3 * L).fma(w, a3);
                a4 = FloatVector.fromArray(S, X, xo + 4 * L).fma(w, a4);
                a5 = FloatVector.fromArray(S, X, xo + 5 * L).fma(w, a5);
                a6 = FloatVector.fromArray(S, X, xo + 6 * L).fma(w, a6);
                a7 = FloatVector.fromArray(S, X, xo + 7 * L).fma(w, a7);
            }
            store(a0, Y, yo, b, c); store(a1, Y, yo, b + L, c);
            store(a2, Y, yo, b + 2 * L, c); store(a3, Y, yo, b + 3 * L, c);
            store(a4, Y, yo, b + 4 * L, c); store(a5, Y, yo, b + 5 * L, c);
            store(a6, Y, yo, b + 6 * L, c); store(a7, Y, yo, b + 7 * L, c);
        }
        for (; b < nb; b += L) {
            FloatVector a0 = init ? FloatVector.fromArray(S, Y, yo + b) : FloatVector.zero(S);
            for (int e = e0; e < e1; e++) {
                a0 = FloatVector.fromArray(S, X, xb + off[e] + b).fma(FloatVector.broadcast(S, W[wb + e]), a0);
            }
            store(a0, Y, yo, b, c);
        }
    }

    /** Per worker thread: the weight gradient's partial lane sums, one vector per edge of a call. */
    private static final ThreadLocal<float[]> PARTIALS = ThreadLocal.withInitial(() -> new float[64 * L]);

    /**
     * Weight gradient of one sparse row: gw[wb+e] = sum_b G[go+b] * X[xb + off[e] + b] for e in [e0, e1).
     * When the batch is whole 64-sample chunks, the gradient row's chunk stays in 8 registers while
     * each edge reads one contiguous chunk of its input row (the forward's access pattern), and each
     * edge's lane sums carry over the chunks in a scratch vector; otherwise four edges at a time share
     * each load of the gradient row. Either way one fixed summation order for given batch and mask.
     */
    static void sparseDots(float[] G, int go, int[] off, int e0, int e1, float[] X, int xb,
                           float[] gw, int wb, Kernels.Cols c) {
        if (c.tail == null && c.nb % (8 * L) == 0 && c.nb > 0) {
            int n = e1 - e0;
            float[] part = PARTIALS.get();
            if (part.length < n * L) PARTIALS.set(part = new float[Math.max(n, 2 * part.length / L) * L]);
            dotsChunks(G, go, off, e0, n, X, xb, part, c.nb);
            for (int k = 0; k < n; k++) gw[wb + e0 + k] = flush(FloatVector.fromArray(S, part, k * L).reduceLanes(VectorOperators.ADD));
        } else {
            dotsAny(G, go, off, e0, e1, X, xb, gw, wb, c);
        }
    }

    /** part[k] (a vector) = lane sums over the batch of G row * X row at xb + off[e0+k], k < n; nb a multiple of 8 vectors. */
    private static void dotsChunks(float[] G, int go, int[] off, int e0, int n, float[] X, int xb, float[] part, int nb) {
        for (int b = 0; b + 8 * L <= nb; b += 8 * L) {
            int g = go + b;
            FloatVector g0 = FloatVector.fromArray(S, G, g), g1 = FloatVector.fromArray(S, G, g + L);
            FloatVector g2 = FloatVector.fromArray(S, G, g + 2 * L), g3 = FloatVector.fromArray(S, G, g + 3 * L);
            FloatVector g4 = FloatVector.fromArray(S, G, g + 4 * L), g5 = FloatVector.fromArray(S, G, g + 5 * L);
            FloatVector g6 = FloatVector.fromArray(S, G, g + 6 * L), g7 = FloatVector.fromArray(S, G, g + 7 * L);
            boolean first = b == 0;
            for (int k = 0; k < n; k++) {
                int xo = xb + off[e0 + k] + b;
                // two chains of four multiply-adds: an edge's chunk is a 16-cycle dependency, independent edges overlap
                FloatVector p = FloatVector.fromArray(S, X, xo).mul(g0);
                FloatVector q = FloatVector.fromArray(S, X, xo + L).mul(g1);
                p = FloatVector.fromArray(S, X, xo + 2 * L).fma(g2, p);
                q = FloatVector.fromArray(S, X, xo + 3 * L).fma(g3, q);
                p = FloatVector.fromArray(S, X, xo + 4 * L).fma(g4, p);
                q = FloatVector.fromArray(S, X, xo + 5 * L).fma(g5, q);
                p = FloatVector.fromArray(S, X, xo + 6 * L).fma(g6, p);
                q = FloatVector.fromArray(S, X, xo + 7 * L).fma(g7, q);
                p = p.add(q);
                if (!first) p = p.add(FloatVector.fromArray(S, part, k * L));
                p.intoArray(part, k * L);
            }
        }
    }

    /** Any batch: four edges at a time share each load of the gradient row; the last vector is masked. */
    private static void dotsAny(float[] G, int go, int[] off, int e0, int e1, float[] X, int xb,
                                float[] gw, int wb, Kernels.Cols c) {
        final int nb = c.nb;
        int e = e0;
        for (; e + 4 <= e1; e += 4) {
            int x0 = xb + off[e], x1 = xb + off[e + 1], x2 = xb + off[e + 2], x3 = xb + off[e + 3];
            FloatVector a0, a1, a2, a3;
            a0 = a1 = a2 = a3 = FloatVector.zero(S);
            for (int b = 0; b < nb; b += L) {
                FloatVector g = load(G, go, b, c);
                a0 = load(X, x0, b, c).fma(g, a0);
                a1 = load(X, x1, b, c).fma(g, a1);
                a2 = load(X, x2, b, c).fma(g, a2);
                a3 = load(X, x3, b, c).fma(g, a3);
            }
            gw[wb + e] = flush(a0.reduceLanes(VectorOperators.ADD));
            gw[wb + e + 1] = flush(a1.reduceLanes(VectorOperators.ADD));
            gw[wb + e + 2] = flush(a2.reduceLanes(VectorOperators.ADD));
            gw[wb + e + 3] = flush(a3.reduceLanes(VectorOperators.ADD));
        }
        for (; e < e1; e++) gw[wb + e] = Kernels.dot(G, go, X, xb + off[e], c);
    }
}

package org.g2g.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-tiled micro-kernels of {@link CpuBackend}, written with jdk.incubator.vector: dense tiles and
 * row epilogues here, the residual-edge kernels in {@link SparseKernels}.
 *
 * Layout: activations are feature-major float arrays, row u (a unit) starts at u * ld and
 * holds the batch contiguously, so every kernel vectorises along the batch. Rows of a
 * tile are named through index arrays (a permutation of units by group), which lets one
 * kernel serve index, interleaved and random grouping alike: only the row start changes.
 *
 * Batch tails: kernels run over nb = batch rounded up to the vector length. Lanes past
 * {@code batch} are computed from whatever the padding holds and then discarded: stores of
 * the last vector blend the old contents back, and reductions over the batch load the last
 * vector with a mask (so NaN or garbage in the padding never enters a dot product).
 * Callers guarantee ld >= nb for every activation tensor; xb, yb, ab are the arrays' row-0 offsets.
 */
final class Kernels {
    private Kernels() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Magnitudes below this are flushed to 0: Java cannot set FTZ and denormals cost ~20x. */
    static final float TINY = 1e-30f;

    /** The batch columns of one call: nb = padded length, full = whole vectors, tail mask of the last vector. */
    static final class Cols {
        final int batch, nb, full, lastB;
        final VectorMask<Float> tail; // null when batch is a multiple of L

        Cols(int batch) {
            this.batch = batch;
            this.nb = (batch + L - 1) / L * L;
            this.full = batch / L * L;
            this.lastB = nb - L;
            this.tail = batch % L == 0 ? null : S.indexInRange(0, batch - lastB);
        }
    }

    static void store(FloatVector v, float[] a, int rowOff, int b, Cols c) {
        if (b == c.lastB && c.tail != null) v = FloatVector.fromArray(S, a, rowOff + b).blend(v, c.tail);
        v.intoArray(a, rowOff + b);
    }

    static FloatVector flush(FloatVector v) {
        return v.blend(0f, v.abs().compare(VectorOperators.LT, TINY));
    }

    static float flush(float v) {
        return Math.abs(v) < TINY ? 0f : v;
    }

    /**
     * Dense tile product: Y[rIdx[rOff+r]][b] (+)= sum_k W[wOff + r*wsR + k*wsK] * X[kIdx[kOff+k]][b]
     * for r < nr, b < nb. Forward uses (wsR, wsK) = (tileCols, 1); the input gradient uses the
     * same tile transposed, (1, tileCols). Micro-kernel: 4 rows x 2 vectors of accumulators
     * held across the k loop (one X load feeds 4 FMAs).
     */
    static void gemm(float[] W, int wOff, int wsR, int wsK, int nk,
                     int[] kIdx, int kOff, float[] X, int xb, int ldx,
                     int[] rIdx, int rOff, int nr, float[] Y, int yb, int ldy,
                     Cols c, boolean accumulate) {
        // 6-row blocks, then 4-row blocks, single rows last; 128 = 20*6 + 2*4 rather than 21*6 + 2*1
        int n6 = nr / 6;
        if (n6 > 0 && (nr % 6 == 2 || nr % 6 == 3)) n6--;
        int r = 0;
        for (; r < 6 * n6; r += 6) gemm6(W, wOff + r * wsR, wsR, wsK, nk, kIdx, kOff, X, xb, ldx, rIdx, rOff + r, Y, yb, ldy, c, accumulate);
        for (; r + 4 <= nr; r += 4) gemm4(W, wOff + r * wsR, wsR, wsK, nk, kIdx, kOff, X, xb, ldx, rIdx, rOff + r, Y, yb, ldy, c, accumulate);
        for (; r < nr; r++) gemm1(W, wOff + r * wsR, wsK, nk, kIdx, kOff, X, xb, ldx, yb + rIdx[rOff + r] * ldy, Y, c, accumulate);
    }

    /** 6 rows x 2 vectors: 12 accumulators; per k two X loads and six broadcasts feed 12 FMAs. */
    private static void gemm6(float[] W, int w0, int wsR, int wsK, int nk,
                              int[] kIdx, int kOff, float[] X, int xb, int ldx,
                              int[] rIdx, int rOff, float[] Y, int yb, int ldy, Cols c, boolean accumulate) {
        final int nb = c.nb;
        int y0 = yb + rIdx[rOff] * ldy, y1 = yb + rIdx[rOff + 1] * ldy, y2 = yb + rIdx[rOff + 2] * ldy;
        int y3 = yb + rIdx[rOff + 3] * ldy, y4 = yb + rIdx[rOff + 4] * ldy, y5 = yb + rIdx[rOff + 5] * ldy;
        int w1 = w0 + wsR, w2 = w1 + wsR, w3 = w2 + wsR, w4 = w3 + wsR, w5 = w4 + wsR;
        int b = 0;
        for (; b + 2 * L <= nb; b += 2 * L) {
            FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
            if (accumulate) {
                a00 = FloatVector.fromArray(S, Y, y0 + b); a01 = FloatVector.fromArray(S, Y, y0 + b + L);
                a10 = FloatVector.fromArray(S, Y, y1 + b); a11 = FloatVector.fromArray(S, Y, y1 + b + L);
                a20 = FloatVector.fromArray(S, Y, y2 + b); a21 = FloatVector.fromArray(S, Y, y2 + b + L);
                a30 = FloatVector.fromArray(S, Y, y3 + b); a31 = FloatVector.fromArray(S, Y, y3 + b + L);
                a40 = FloatVector.fromArray(S, Y, y4 + b); a41 = FloatVector.fromArray(S, Y, y4 + b + L);
                a50 = FloatVector.fromArray(S, Y, y5 + b); a51 = FloatVector.fromArray(S, Y, y5 + b + L);
            } else {
                a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = FloatVector.zero(S);
            }
            for (int k = 0, wk = 0; k < nk; k++, wk += wsK) {
                int xo = xb + kIdx[kOff + k] * ldx + b;
                FloatVector x0 = FloatVector.fromArray(S, X, xo);
                FloatVector x1 = FloatVector.fromArray(S, X, xo + L);
                FloatVector w = FloatVector.broadcast(S, W[w0 + wk]);
                a00 = x0.fma(w, a00); a01 = x1.fma(w, a01);
                w = FloatVector.broadcast(S, W[w1 + wk]);
                a10 = x0.fma(w, a10); a11 = x1.fma(w, a11);
                w = FloatVector.broadcast(S, W[w2 + wk]);
                a20 = x0.fma(w, a20); a21 = x1.fma(w, a21);
                w = FloatVector.broadcast(S, W[w3 + wk]);
                a30 = x0.fma(w, a30); a31 = x1.fma(w, a31);
                w = FloatVector.broadcast(S, W[w4 + wk]);
                a40 = x0.fma(w, a40); a41 = x1.fma(w, a41);
                w = FloatVector.broadcast(S, W[w5 + wk]);
                a50 = x0.fma(w, a50); a51 = x1.fma(w, a51);
            }
            store(a00, Y, y0, b, c); store(a01, Y, y0, b + L, c);
            store(a10, Y, y1, b, c); store(a11, Y, y1, b + L, c);
            store(a20, Y, y2, b, c); store(a21, Y, y2, b + L, c);
            store(a30, Y, y3, b, c); store(a31, Y, y3, b + L, c);
            store(a40, Y, y4, b, c); store(a41, Y, y4, b + L, c);
            store(a50, Y, y5, b, c); store(a51, Y, y5, b + L, c);
        }
        if (b < nb) {
            gemm4(W, w0, wsR, wsK, nk, kIdx, kOff, X, xb, ldx, rIdx, rOff, Y, yb, ldy, c, accumulate, b);
            gemm1(W, w4, wsK, nk, kIdx, kOff, X, xb, ldx, y4, Y, c, accumulate, b);
            gemm1(W, w5, wsK, nk, kIdx, kOff, X, xb, ldx, y5, Y, c, accumulate, b);
        }
    }

    private static void gemm4(float[] W, int w0, int wsR, int wsK, int nk,
                              int[] kIdx, int kOff, float[] X, int xb, int ldx,
                              int[] rIdx, int rOff, float[] Y, int yb, int ldy, Cols c, boolean accumulate) {
        gemm4(W, w0, wsR, wsK, nk, kIdx, kOff, X, xb, ldx, rIdx, rOff, Y, yb, ldy, c, accumulate, 0);
    }

    /** 4 rows x 2 vectors from batch column b0 on. */
    private static void gemm4(float[] W, int w0, int wsR, int wsK, int nk,
                              int[] kIdx, int kOff, float[] X, int xb, int ldx,
                              int[] rIdx, int rOff, float[] Y, int yb, int ldy, Cols c, boolean accumulate, int b0) {
        final int nb = c.nb;
        int y0 = yb + rIdx[rOff] * ldy, y1 = yb + rIdx[rOff + 1] * ldy;
        int y2 = yb + rIdx[rOff + 2] * ldy, y3 = yb + rIdx[rOff + 3] * ldy;
        int w1 = w0 + wsR, w2 = w1 + wsR, w3 = w2 + wsR;
        int b = b0;
        for (; b + 2 * L <= nb; b += 2 * L) {
            FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
            if (accumulate) {
                a00 = FloatVector.fromArray(S, Y, y0 + b); a01 = FloatVector.fromArray(S, Y, y0 + b + L);
                a10 = FloatVector.fromArray(S, Y, y1 + b); a11 = FloatVector.fromArray(S, Y, y1 + b + L);
                a20 = FloatVector.fromArray(S, Y, y2 + b); a21 = FloatVector.fromArray(S, Y, y2 + b + L);
                a30 = FloatVector.fromArray(S, Y, y3 + b); a31 = FloatVector.fromArray(S, Y, y3 + b + L);
            } else {
                a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = FloatVector.zero(S);
            }
            for (int k = 0, wk = 0; k < nk; k++, wk += wsK) {
                int xo = xb + kIdx[kOff + k] * ldx + b;
                FloatVector x0 = FloatVector.fromArray(S, X, xo);
                FloatVector x1 = FloatVector.fromArray(S, X, xo + L);
                FloatVector w = FloatVector.broadcast(S, W[w0 + wk]);
                a00 = x0.fma(w, a00); a01 = x1.fma(w, a01);
                w = FloatVector.broadcast(S, W[w1 + wk]);
                a10 = x0.fma(w, a10); a11 = x1.fma(w, a11);
                w = FloatVector.broadcast(S, W[w2 + wk]);
                a20 = x0.fma(w, a20); a21 = x1.fma(w, a21);
                w = FloatVector.broadcast(S, W[w3 + wk]);
                a30 = x0.fma(w, a30); a31 = x1.fma(w, a31);
            }
            store(a00, Y, y0, b, c); store(a01, Y, y0, b + L, c);
            store(a10, Y, y1, b, c); store(a11, Y, y1, b + L, c);
            store(a20, Y, y2, b, c); store(a21, Y, y2, b + L, c);
            store(a30, Y, y3, b, c); store(a31, Y, y3, b + L, c);
        }
        for (; b < nb; b += L) {
            FloatVector a0, a1, a2, a3;
            if (accumulate) {
                a0 = FloatVector.fromArray(S, Y, y0 + b); a1 = FloatVector.fromArray(S, Y, y1 + b);
                a2 = FloatVector.fromArray(S, Y, y2 + b); a3 = FloatVector.fromArray(S, Y, y3 + b);
            } else {
                a0 = a1 = a2 = a3 = FloatVector.zero(S);
            }
            for (int k = 0, wk = 0; k < nk; k++, wk += wsK) {
                FloatVector x0 = FloatVector.fromArray(S, X, xb + kIdx[kOff + k] * ldx + b);
                a0 = x0.fma(FloatVector.broadcast(S, W[w0 + wk]), a0);
                a1 = x0.fma(FloatVector.broadcast(S, W[w1 + wk]), a1);
                a2 = x0.fma(FloatVector.broadcast(S, W[w2 + wk]), a2);
                a3 = x0.fma(FloatVector.broadcast(S, W[w3 + wk]), a3);
            }
            store(a0, Y, y0, b, c); store(a1, Y, y1, b, c);
            store(a2, Y, y2, b, c); store(a3, Y, y3, b, c);
        }
    }

    private static void gemm1(float[] W, int w0, int wsK, int nk, int[] kIdx, int kOff, float[] X, int xb, int ldx,
                              int y0, float[] Y, Cols c, boolean accumulate) {
        gemm1(W, w0, wsK, nk, kIdx, kOff, X, xb, ldx, y0, Y, c, accumulate, 0);
    }

    /** One row from batch column b0 on. */
    private static void gemm1(float[] W, int w0, int wsK, int nk, int[] kIdx, int kOff, float[] X, int xb, int ldx,
                              int y0, float[] Y, Cols c, boolean accumulate, int b0) {
        final int nb = c.nb;
        int b = b0;
        for (; b + 2 * L <= nb; b += 2 * L) {
            FloatVector a0 = accumulate ? FloatVector.fromArray(S, Y, y0 + b) : FloatVector.zero(S);
            FloatVector a1 = accumulate ? FloatVector.fromArray(S, Y, y0 + b + L) : FloatVector.zero(S);
            for (int k = 0, wk = 0; k < nk; k++, wk += wsK) {
                int xo = xb + kIdx[kOff + k] * ldx + b;
                FloatVector w = FloatVector.broadcast(S, W[w0 + wk]);
                a0 = FloatVector.fromArray(S, X, xo).fma(w, a0);
                a1 = FloatVector.fromArray(S, X, xo + L).fma(w, a1);
            }
            store(a0, Y, y0, b, c); store(a1, Y, y0, b + L, c);
        }
        for (; b < nb; b += L) {
            FloatVector a0 = accumulate ? FloatVector.fromArray(S, Y, y0 + b) : FloatVector.zero(S);
            for (int k = 0, wk = 0; k < nk; k++, wk += wsK) {
                a0 = FloatVector.fromArray(S, X, xb + kIdx[kOff + k] * ldx + b)
                        .fma(FloatVector.broadcast(S, W[w0 + wk]), a0);
            }
            store(a0, Y, y0, b, c);
        }
    }

    /** y[b] = flush(act((init ? y[b] : 0) + bias)): the epilogue of a row after all its tiles. */
    static void finishRow(float[] Y, int yo, boolean init, float bias, boolean relu, Cols c) {
        FloatVector bv = FloatVector.broadcast(S, bias);
        for (int b = 0; b < c.nb; b += L) {
            FloatVector a = init ? FloatVector.fromArray(S, Y, yo + b) : FloatVector.zero(S);
            store(fin(a, bv, relu), Y, yo, b, c);
        }
    }

    /** dst row = flush(act((init ? src row : 0) + bias)): the epilogue when the row was summed in a scratch row. */
    static void finishRow(float[] src, int so, float[] dst, int dof, boolean init, float bias, boolean relu, Cols c) {
        FloatVector bv = FloatVector.broadcast(S, bias);
        for (int b = 0; b < c.nb; b += L) {
            FloatVector a = init ? FloatVector.fromArray(S, src, so + b) : FloatVector.zero(S);
            store(fin(a, bv, relu), dst, dof, b, c);
        }
    }

    /** a[off .. off + n) flushed below {@link #TINY}. */
    static void flushRange(float[] a, int off, int n) {
        int k = 0;
        for (; k + L <= n; k += L) flush(FloatVector.fromArray(S, a, off + k)).intoArray(a, off + k);
        for (; k < n; k++) a[off + k] = flush(a[off + k]);
    }

    private static FloatVector fin(FloatVector a, FloatVector bias, boolean relu) {
        a = a.add(bias);
        if (relu) a = a.max(0f);
        return flush(a);
    }

    /** Vector b of a row, the last one masked to the batch (reductions must not read the padding). */
    static FloatVector load(float[] a, int off, int b, Cols c) {
        return b < c.full ? FloatVector.fromArray(S, a, off + b) : FloatVector.fromArray(S, a, off + b, c.tail);
    }

    /**
     * Dot products over the batch: out[outOff + r*outsR + j] = sum_b A[rIdx[rOff+r]][b] * X[cIdx[cOff+j]][b]
     * for r < nr, j < nc (weight gradient of a dense tile, correlation). Micro-kernel: 4 x 2
     * accumulator vectors, reduced across lanes once at the end.
     */
    static void dotTile(float[] A, int ab, int lda, int[] rIdx, int rOff, int nr,
                        float[] X, int xb, int ldx, int[] cIdx, int cOff, int nc,
                        float[] out, int outOff, int outsR, Cols c) {
        final int nb = c.nb, full = c.full;
        int r = 0;
        for (; r + 4 <= nr; r += 4) {
            int g0 = ab + rIdx[rOff + r] * lda, g1 = ab + rIdx[rOff + r + 1] * lda;
            int g2 = ab + rIdx[rOff + r + 2] * lda, g3 = ab + rIdx[rOff + r + 3] * lda;
            int o = outOff + r * outsR;
            int j = 0;
            for (; j + 2 <= nc; j += 2) {
                int x0 = xb + cIdx[cOff + j] * ldx, x1 = xb + cIdx[cOff + j + 1] * ldx;
                FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
                a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = FloatVector.zero(S);
                for (int b = 0; b < nb; b += L) {
                    FloatVector v0, v1, g0v, g1v, g2v, g3v;
                    if (b < full) {
                        v0 = FloatVector.fromArray(S, X, x0 + b); v1 = FloatVector.fromArray(S, X, x1 + b);
                        g0v = FloatVector.fromArray(S, A, g0 + b); g1v = FloatVector.fromArray(S, A, g1 + b);
                        g2v = FloatVector.fromArray(S, A, g2 + b); g3v = FloatVector.fromArray(S, A, g3 + b);
                    } else {
                        v0 = load(X, x0, b, c); v1 = load(X, x1, b, c);
                        g0v = load(A, g0, b, c); g1v = load(A, g1, b, c);
                        g2v = load(A, g2, b, c); g3v = load(A, g3, b, c);
                    }
                    a00 = v0.fma(g0v, a00); a01 = v1.fma(g0v, a01);
                    a10 = v0.fma(g1v, a10); a11 = v1.fma(g1v, a11);
                    a20 = v0.fma(g2v, a20); a21 = v1.fma(g2v, a21);
                    a30 = v0.fma(g3v, a30); a31 = v1.fma(g3v, a31);
                }
                out[o + j] = flush(a00.reduceLanes(VectorOperators.ADD));
                out[o + j + 1] = flush(a01.reduceLanes(VectorOperators.ADD));
                out[o + outsR + j] = flush(a10.reduceLanes(VectorOperators.ADD));
                out[o + outsR + j + 1] = flush(a11.reduceLanes(VectorOperators.ADD));
                out[o + 2 * outsR + j] = flush(a20.reduceLanes(VectorOperators.ADD));
                out[o + 2 * outsR + j + 1] = flush(a21.reduceLanes(VectorOperators.ADD));
                out[o + 3 * outsR + j] = flush(a30.reduceLanes(VectorOperators.ADD));
                out[o + 3 * outsR + j + 1] = flush(a31.reduceLanes(VectorOperators.ADD));
            }
            for (; j < nc; j++) {
                int x0 = xb + cIdx[cOff + j] * ldx;
                for (int q = 0; q < 4; q++) out[o + q * outsR + j] = dot(A, ab + rIdx[rOff + r + q] * lda, X, x0, c);
            }
        }
        for (; r < nr; r++) {
            int g0 = ab + rIdx[rOff + r] * lda;
            int o = outOff + r * outsR;
            for (int j = 0; j < nc; j++) out[o + j] = dot(A, g0, X, xb + cIdx[cOff + j] * ldx, c);
        }
    }

    static float dot(float[] A, int a0, float[] X, int x0, Cols c) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0; b < c.nb; b += L) acc = load(X, x0, b, c).fma(load(A, a0, b, c), acc);
        return flush(acc.reduceLanes(VectorOperators.ADD));
    }

    static float sum(float[] A, int a0, Cols c) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0; b < c.nb; b += L) acc = acc.add(load(A, a0, b, c));
        return acc.reduceLanes(VectorOperators.ADD);
    }
}

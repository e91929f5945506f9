package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.g2g.backend.layout.GroupedLayout;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host half of the CUDA layer: the CUDA view of the grouped layout, checked against the
 * dense view, and a plain-Java emulation of exactly the decomposition the kernels compute
 * (group-block GEMMs through outList/inList, CSR rows, CSC columns with cscPerm, per-edge
 * dots), checked against
 * ReferenceBackend. This verifies every index the kernels are given; the kernels themselves
 * are checked on a GPU by CudaKernelParityTest.
 */
class CudaLayoutTest {
    static Stream<Arguments> masks() {
        return TestMasks.cases(42).stream().map(a -> Arguments.of(a[0], a[1]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masks")
    void packUnpackRoundTripsTheDenseView(String name, Mask m) {
        CudaLayout l = CudaLayout.of(m);
        Random rng = new Random(1);
        float[] dense = new float[m.out * m.in];
        for (int k = 0; k < dense.length; k++) dense[k] = (float) rng.nextGaussian();
        float[] masked = dense.clone();
        for (int k = 0; k < masked.length; k++) if (!m.active[k]) masked[k] = 0f;
        float[] packed = l.pack(dense);
        assertEquals(l.packedSize(), packed.length);
        assertArrayEquals(masked, l.unpack(packed), name);
        // every active edge stored exactly once, holes hold zero
        int nonzero = 0;
        for (float v : packed) if (v != 0f) nonzero++;
        assertEquals(m.activeCount(), nonzero, name + ": packed nonzeros = active edges");
        assertEquals(m.activeCount(), l.activeEdges);
        if (l.kind == CudaLayout.Kind.GROUPED) {
            assertEquals(l.blockTotal + l.edges, l.packedSize());
            long intra = m.activeCount() - l.edges;
            assertTrue(intra >= GroupedLayout.DENSE_BLOCK_MIN_FILL * l.blockTotal);
            assertEquals(l.blockMask == null, intra == l.blockTotal, "block mask exactly when blocks have holes");
        }
    }

    @Test
    void layoutKinds() {
        Random rng = new Random(3);
        assertEquals(CudaLayout.Kind.DENSE, CudaLayout.of(Mask.dense(10, 20)).kind);
        assertEquals(CudaLayout.Kind.GROUPED, CudaLayout.of(MaskFactory.g2g(64, 64, 8, 1.0, 0.15, Grouping.RANDOM, rng)).kind);
        assertEquals(CudaLayout.Kind.CSR, CudaLayout.of(MaskFactory.erdosRenyi(64, 64, 0.3, rng)).kind);
        assertEquals(CudaLayout.Kind.CSR, CudaLayout.of(MaskFactory.g2g(64, 64, 8, 0.1, 0.1, Grouping.INDEX, rng)).kind);
        // unequal groups cannot form equal blocks
        Mask g = MaskFactory.g2g(8, 8, 2, 1.0, 0.0, Grouping.INDEX, rng);
        g.groupOut[0] = 1;
        assertEquals(CudaLayout.Kind.CSR, CudaLayout.of(g).kind);
        // the default G2G layer: 8 blocks of 128 x 128 and ~15% of the rest as edges
        CudaLayout d = CudaLayout.of(MaskFactory.g2g(1024, 1024, 8, 1.0, 0.15, Grouping.INDEX, rng));
        assertEquals(8 * 128 * 128, d.blockTotal);
        assertEquals(0.15 * 7 / 8 * 1024 * 1024, d.edges, 0.01 * d.edges);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masks")
    void theDevicePacksTheGroupedLayoutWithItsEdgesInUnitOrder(String name, Mask m) {
        CudaLayout l = CudaLayout.of(m);
        GroupedLayout g = l.grouped;
        Random rng = new Random(2);
        float[] dense = rand(rng, m.out * m.in);
        float[] mine = l.pack(dense), shared = new float[g.packedSize()];
        g.pack(dense, shared, 0);
        assertEquals(g.packedSize(), mine.length, name);
        assertEquals(g.edgeBase, l.blockTotal, name);
        for (int p = 0; p < l.blockTotal; p++) assertEquals(shared[p], mine[p], name + ": block position " + p);
        for (int k = 0; k < l.edges; k++) {
            int e = l.edgeOrder == null ? k : l.edgeOrder[k];
            assertEquals(shared[g.edgeBase + e], mine[l.blockTotal + k], name + ": device edge " + k);
            assertEquals(g.edgeCol[e], l.col[k], name);
        }
        if (l.kind != CudaLayout.Kind.CSR) assertEquals(GroupedLayout.of(m).packedSize(), l.packedSize(), name + ": the default grouped layout");
    }

    @Test
    void cscIsTheTransposeOfCsr() {
        Mask m = TestMasks.afterDst(MaskFactory.g2g(40, 56, 4, 1.0, 0.3, Grouping.INTERLEAVED, new Random(5)), 2, new Random(6));
        CudaLayout l = CudaLayout.of(m);
        boolean[] seen = new boolean[l.edges];
        for (int i = 0; i < l.in; i++) {
            int prev = -1;
            for (int k = l.colPtr[i]; k < l.colPtr[i + 1]; k++) {
                int e = l.cscPerm[k];
                assertEquals(i, l.col[e]);
                assertEquals(l.cscRow[k], l.edgeRow[e]);
                assertTrue(l.cscRow[k] > prev, "rows ascend inside a column");
                prev = l.cscRow[k];
                seen[e] = true;
            }
        }
        for (boolean s : seen) assertTrue(s);
        // the CSR is by output unit, columns ascending
        for (int o = 0; o < l.out; o++) {
            int prev = -1;
            for (int k = l.rowPtr[o]; k < l.rowPtr[o + 1]; k++) {
                assertEquals(o, l.edgeRow[k]);
                assertTrue(l.col[k] > prev, "columns ascend inside a row");
                prev = l.col[k];
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("masks")
    void kernelDecompositionMatchesReference(String name, Mask m) {
        CudaLayout l = CudaLayout.of(m);
        Random rng = new Random(7);
        int batch = 37;
        float[] w = rand(rng, m.out * m.in), bias = rand(rng, m.out), x = rand(rng, m.in * batch), dy = rand(rng, m.out * batch);
        float[] packed = l.pack(w);

        RefLayer want = RefLayer.of(m, w, bias, x, dy, batch);

        float[] y = Emulator.forward(l, packed, bias, x, batch, true);
        float[] dx = Emulator.backwardInput(l, packed, dy, batch);
        float[] gw = Emulator.weightGrad(l, x, dy, batch);
        assertClose(want.y(), y, name + " forward");
        assertClose(want.dx(), dx, name + " backwardInput");
        assertClose(want.gw(), l.unpack(gw), name + " weightGrad");
        // holes of the blocks stay zero in the gradient
        if (l.blockMask != null) for (int p = 0; p < l.blockTotal; p++) if (l.blockMask[p] == 0) assertEquals(0f, gw[p]);
    }

    static float[] rand(Random rng, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (float) rng.nextGaussian();
        return a;
    }

    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int k = 0; k < want.length; k++) {
            assertEquals(want[k], got[k], 1e-4 * (1 + Math.abs(want[k])), what + " at " + k);
        }
    }

    /** Plain loops with the kernels' index arithmetic (gemm.cu, sparse.cu); x, y, dy dense batch-major rows. */
    static final class Emulator {
        static float[] forward(CudaLayout l, float[] w, float[] bias, float[] x, int batch, boolean relu) {
            float[] y = new float[l.out * batch];
            switch (l.kind) {
                case DENSE -> gemm(false, l.out, batch, l.in, w, 0, l.in, null, 0, x, batch, null, 0, y, batch, null, 0, null);
                case GROUPED -> {
                    for (int z = 0; z < l.groups; z++) {
                        gemm(false, l.outPer, batch, l.inPer, w, z * l.outPer * l.inPer, l.inPer, null, 0,
                                x, batch, l.inList, z * l.inPer, y, batch, l.outList, z * l.outPer, null);
                    }
                }
                case CSR -> { }
            }
            if (l.kind == CudaLayout.Kind.DENSE) {
                for (int o = 0; o < l.out; o++) for (int b = 0; b < batch; b++) y[o * batch + b] = act(y[o * batch + b] + bias[o], relu);
            } else {
                spmmRows(l.out, batch, l.rowPtr, l.col, null, w, l.blockTotal, x, bias, y, l.kind == CudaLayout.Kind.GROUPED, relu);
            }
            return y;
        }

        static float[] backwardInput(CudaLayout l, float[] w, float[] dy, int batch) {
            float[] dx = new float[l.in * batch];
            switch (l.kind) {
                case DENSE -> gemm(true, l.in, batch, l.out, w, 0, l.in, null, 0, dy, batch, null, 0, dx, batch, null, 0, null);
                case GROUPED -> {
                    for (int z = 0; z < l.groups; z++) {
                        gemm(true, l.inPer, batch, l.outPer, w, z * l.outPer * l.inPer, l.inPer, null, 0,
                                dy, batch, l.outList, z * l.outPer, dx, batch, l.inList, z * l.inPer, null);
                    }
                    spmmRows(l.in, batch, l.colPtr, l.cscRow, l.cscPerm, w, l.blockTotal, dy, null, dx, true, false);
                }
                case CSR -> spmmRows(l.in, batch, l.colPtr, l.cscRow, l.cscPerm, w, l.blockTotal, dy, null, dx, false, false);
            }
            return dx;
        }

        static float[] weightGrad(CudaLayout l, float[] x, float[] dy, int batch) {
            float[] gw = new float[l.packedSize()];
            if (l.kind == CudaLayout.Kind.DENSE) {
                for (int o = 0; o < l.out; o++) for (int i = 0; i < l.in; i++) gw[o * l.in + i] = dot(dy, o, x, i, batch);
                return gw;
            }
            for (int z = 0; z < l.groups; z++) { // gemm_nt with the mask epilogue
                for (int r = 0; r < l.outPer; r++) {
                    for (int c = 0; c < l.inPer; c++) {
                        int p = z * l.outPer * l.inPer + r * l.inPer + c;
                        float v = dot(dy, l.outList[z * l.outPer + r], x, l.inList[z * l.inPer + c], batch);
                        gw[p] = l.blockMask == null || l.blockMask[p] != 0 ? v : 0f;
                    }
                }
            }
            for (int e = 0; e < l.edges; e++) gw[l.blockTotal + e] = dot(dy, l.edgeRow[e], x, l.col[e], batch);
            return gw;
        }

        private static float dot(float[] a, int ra, float[] b, int rb, int batch) {
            float s = 0f;
            for (int k = 0; k < batch; k++) s += a[ra * batch + k] * b[rb * batch + k];
            return s;
        }

        /** gemm_nn (transA false) / gemm_tn (transA true) over one problem, as gemm_tile indexes it. */
        private static void gemm(boolean transA, int m, int n, int k, float[] a, int aOff, int lda, int[] aIdx, int aIdxOff,
                                 float[] b, int ldb, int[] bIdx, int bIdxOff, float[] c, int ldc, int[] cIdx, int cIdxOff,
                                 byte[] cMask) {
            for (int mm = 0; mm < m; mm++) {
                for (int nn = 0; nn < n; nn++) {
                    float acc = 0f;
                    for (int kk = 0; kk < k; kk++) {
                        float av = transA ? a[aOff + kk * lda + mm] : a[aOff + (aIdx == null ? mm : aIdx[aIdxOff + mm]) * lda + kk];
                        float bv = b[(bIdx == null ? kk : bIdx[bIdxOff + kk]) * ldb + nn];
                        acc += av * bv;
                    }
                    c[(cIdx == null ? mm : cIdx[cIdxOff + mm]) * ldc + nn] = acc;
                }
            }
        }

        private static void spmmRows(int rows, int batch, int[] ptr, int[] idx, int[] perm, float[] vals, int valsOff,
                                     float[] src, float[] bias, float[] dst, boolean accumulate, boolean relu) {
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < batch; b++) {
                    float acc = 0f;
                    for (int e = ptr[r]; e < ptr[r + 1]; e++) acc += vals[valsOff + (perm == null ? e : perm[e])] * src[idx[e] * batch + b];
                    float v = (accumulate ? dst[r * batch + b] : 0f) + acc + (bias == null ? 0f : bias[r]);
                    dst[r * batch + b] = act(v, relu);
                }
            }
        }

        private static float act(float v, boolean relu) { return relu && v < 0f ? 0f : v; }
    }
}

package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.g2g.backend.Backend;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.model.Mask;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every CUDA kernel against the CPU reference on fresh random inputs (mvn test -Pgpu).
 *
 * Tolerances, per op:
 *  - forward / backwardInput / weightGrad / RAW correlation: |gpu - ref| <= 1e-4 * S + 1e-6 per
 *    element, S = the same op on |inputs| (sum of absolute terms: fp32 relative error < 1e-4
 *    measured against the conditioning of each sum, immune to cancellation);
 *  - COSINE / PEARSON scores (bounded by 1): absolute 1e-4;
 *  - softmax cross-entropy: dlogits absolute 1e-6 (values ~1/batch), loss sum relative 1e-5,
 *    correct count exact;
 *  - reluBackward, adam, sgd, ema, gather, zero, copy, pack/unpack: bit-exact;
 *  - selection: the exact set of positions (scores distinct).
 * Outputs are poisoned with NaN first, so an element a kernel forgets to write fails; columns
 * past the batch must stay NaN (no out-of-bounds writes).
 */
@Tag("gpu")
class CudaKernelParityTest {
    static CudaBackend custom, cusparse;
    static final ReferenceBackend REF = new ReferenceBackend();
    static final int[] BATCHES = {1, 37, 300};

    @BeforeEach
    void open() { // per test, so every test reports the skip and its reason without a GPU
        GpuTests.requireGpu();
        if (custom == null) {
            custom = (CudaBackend) Cuda.open(0, "custom");
            if (Cuda.probe().cusparse().startsWith("loaded")) cusparse = (CudaBackend) Cuda.open(0, "cusparse");
        }
    }

    @AfterAll
    static void close() {
        if (custom != null) {
            custom.close();
            assertEquals(0, custom.liveAllocations());
        }
        if (cusparse != null) cusparse.close();
    }

    static Stream<Arguments> layerCases() {
        List<Arguments> out = new ArrayList<>();
        for (Object[] c : TestMasks.cases(2024)) {
            for (String engine : new String[] {"custom", "cusparse"}) out.add(Arguments.of(c[0], c[1], engine));
        }
        return out.stream();
    }

    static CudaBackend engine(String name) {
        CudaBackend b = name.equals("custom") ? custom : cusparse;
        assumeTrue(b != null, "cuSPARSE not loaded: " + Cuda.probe().cusparse());
        return b;
    }

    static float[] rand(Random rng, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (float) rng.nextGaussian();
        return a;
    }

    static float[] abs(float[] a) {
        float[] b = new float[a.length];
        for (int k = 0; k < a.length; k++) b[k] = Math.abs(a[k]);
        return b;
    }

    static float[] nan(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /** A device tensor rows x (batch + 3) holding {@code data} in its first batch columns, NaN after. */
    static Tensor upload(Backend be, float[] data, int rows, int batch) {
        int cols = batch + 3;
        float[] full = nan(rows * cols);
        if (data != null) for (int r = 0; r < rows; r++) System.arraycopy(data, r * batch, full, r * cols, batch);
        Tensor t = be.tensor(rows, cols);
        be.write(t, full);
        return t;
    }

    /** The first batch columns of t; asserts the rest stayed NaN. */
    static float[] download(Backend be, Tensor t, int batch, String what) {
        float[] full = be.read(t);
        float[] out = new float[t.rows * batch];
        for (int r = 0; r < t.rows; r++) {
            System.arraycopy(full, r * t.cols, out, r * batch, batch);
            for (int c = batch; c < t.cols; c++) {
                if (!Float.isNaN(full[r * t.cols + c])) fail(what + ": wrote past the batch at row " + r + " col " + c);
            }
        }
        return out;
    }

    static void assertBound(float[] want, float[] scale, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int k = 0; k < want.length; k++) {
            double tol = 1e-4 * scale[k] + 1e-6;
            if (!(Math.abs(want[k] - got[k]) <= tol)) {
                fail(what + ": element " + k + " want " + want[k] + " got " + got[k] + " (tolerance " + tol + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0} [{2}]")
    @MethodSource("layerCases")
    void layerOpsMatchReference(String name, Mask m, String engineName) {
        CudaBackend be = engine(engineName);
        Random rng = new Random(name.hashCode());
        for (int batch : BATCHES) {
            float[] w = rand(rng, m.out * m.in), bias = rand(rng, m.out), x = rand(rng, m.in * batch), dy = rand(rng, m.out * batch);
            RefLayer want = RefLayer.of(m, w, bias, x, dy, batch);
            RefLayer scale = RefLayer.of(m, abs(w), abs(bias), abs(x), abs(dy), batch);
            String what = name + " [" + engineName + "] batch " + batch;
            try (LayerPlan p = be.plan(m);
                 Tensor W = be.vector(p.packedSize()); Tensor B = be.vector(m.out);
                 Tensor X = upload(be, x, m.in, batch); Tensor DY = upload(be, dy, m.out, batch);
                 Tensor Y = upload(be, null, m.out, batch); Tensor DX = upload(be, null, m.in, batch);
                 Tensor GW = be.vector(p.packedSize()); Tensor GB = be.vector(m.out)) {
                be.pack(p, w, W);
                be.write(B, bias);
                be.write(GW, nan(p.packedSize()));
                be.write(GB, nan(m.out));
                be.forward(p, W, B, X, Y, batch, true);
                be.backwardInput(p, W, DY, DX, batch);
                be.weightGrad(p, X, DY, GW, GB, batch);
                // pre-ReLU scale bounds the post-ReLU error too
                assertBound(want.y(), scale.y(), download(be, Y, batch, what), what + " forward");
                assertBound(want.dx(), scale.dx(), download(be, DX, batch, what), what + " backwardInput");
                float[] packedGrad = be.read(GW);
                for (float v : packedGrad) if (Float.isNaN(v)) fail(what + ": weightGrad left a packed position unwritten");
                assertBound(want.gw(), scale.gw(), be.unpack(p, GW), what + " weightGrad");
                assertBound(want.gb(), scale.gb(), be.read(GB), what + " bias grad");
                // holes of the packed layout hold exactly 0 in the gradient
                float[] reread = ((CudaPlan) p).layout.pack(be.unpack(p, GW));
                assertArrayEquals(reread, packedGrad, what + ": nonzero gradient at a hole");
            }
        }
    }

    static Stream<Arguments> fusedCases() {
        List<Arguments> out = new ArrayList<>();
        for (Object[] c : TestMasks.cases(2025)) out.add(Arguments.of(c[0], c[1]));
        out.add(Arguments.of("dense head 10x150 (layer.cu)", Mask.dense(10, 150)));
        out.add(Arguments.of("dense 80x50 (cuBLAS)", Mask.dense(LayerKernels.SMALL_DENSE + 16, 50)));
        return out.stream();
    }

    /**
     * layerBackward (one fused launch where layer.cu takes the layer) gives exactly what its three
     * calls give one by one (weightGrad, backwardInput, reluBackward through x), and the reference's
     * values; batch 1100 splits the block weight gradient over the batch (atomic partial sums:
     * the reference's tolerance instead of bit identity).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fusedCases")
    void layerBackwardIsItsThreeCalls(String name, Mask m) {
        Random rng = new Random(name.hashCode() + 1);
        for (int batch : new int[] {1, 37, 300, 1100}) {
            float[] w = rand(rng, m.out * m.in), x = rand(rng, m.in * batch), dy = rand(rng, m.out * batch);
            RefLayer want = RefLayer.of(m, w, new float[m.out], x, dy, batch);
            RefLayer scale = RefLayer.of(m, abs(w), new float[m.out], abs(x), abs(dy), batch);
            float[] wantDx = want.dx().clone();
            for (int k = 0; k < wantDx.length; k++) if (x[k] <= 0) wantDx[k] = 0;
            String what = name + " batch " + batch;
            try (LayerPlan p = custom.plan(m);
                 Tensor W = custom.vector(p.packedSize()); Tensor X = upload(custom, x, m.in, batch);
                 Tensor DY = upload(custom, dy, m.out, batch);
                 Tensor DX1 = upload(custom, null, m.in, batch); Tensor DX2 = upload(custom, null, m.in, batch);
                 Tensor GW1 = custom.vector(p.packedSize()); Tensor GB1 = custom.vector(m.out);
                 Tensor GW2 = custom.vector(p.packedSize()); Tensor GB2 = custom.vector(m.out)) {
                custom.pack(p, w, W);
                for (Tensor t : new Tensor[] {GW1, GW2}) custom.write(t, nan(p.packedSize()));
                for (Tensor t : new Tensor[] {GB1, GB2}) custom.write(t, nan(m.out));
                custom.weightGrad(p, X, DY, GW1, GB1, batch);
                custom.backwardInput(p, W, DY, DX1, batch);
                custom.reluBackward(X, DX1, batch);
                long l0 = custom.launches();
                custom.layerBackward(p, W, X, DY, GW2, GB2, DX2, true, batch);
                long launches = custom.launches() - l0;
                float[] dx1 = download(custom, DX1, batch, what), dx2 = download(custom, DX2, batch, what + " fused");
                assertBound(wantDx, scale.dx(), dx2, what + " fused input gradient");
                assertBound(want.gw(), scale.gw(), custom.unpack(p, GW2), what + " fused weight gradient");
                assertBound(want.gb(), scale.gb(), custom.read(GB2), what + " fused bias gradient");
                if (batch < 1024) {
                    assertArrayEquals(dx1, dx2, what + ": input gradient");
                    assertArrayEquals(custom.read(GW1), custom.read(GW2), what + ": weight gradient");
                    assertArrayEquals(custom.read(GB1), custom.read(GB2), what + ": bias gradient");
                }
                CudaLayout l = ((CudaPlan) p).layout;
                boolean fused = l.kind == CudaLayout.Kind.GROUPED || (l.kind == CudaLayout.Kind.DENSE && l.out <= LayerKernels.SMALL_DENSE);
                if (fused) assertEquals(1, launches, what + ": one launch for the layer's backward");
            }
        }
    }

    /**
     * --precision tf32: the layer products on TF32-rounded operands (our group-block GEMM, and the
     * emulated cuBLAS in TF32 math mode for the wide dense layer) stay within the tf32 tolerance,
     * |tf32 - ref| <= 2e-3 * S + 1e-6 (each operand within 2^-11 relative, so each term within
     * ~1e-3 of |term|, plus fp32 accumulation), and differ from the fp32 backend's bits somewhere
     * (the rounding is applied). The fp32 tolerance is 1e-4 * S + 1e-6 (layerOpsMatchReference).
     */
    @Test
    void tf32WithinItsTolerance() {
        Random rng = new Random(14);
        List<Object[]> cases = new ArrayList<>(TestMasks.cases(2026).subList(0, 2));
        cases.add(new Object[] {"dense head 10x150 (layer.cu)", Mask.dense(10, 150)});
        cases.add(new Object[] {"dense 80x50 (cuBLAS, TF32 math mode)", Mask.dense(LayerKernels.SMALL_DENSE + 16, 50)});
        try (CudaBackend tf32 = (CudaBackend) Cuda.open(0, "custom", true)) {
            assertTrue(tf32.description().contains("precision tf32"), tf32.description());
            for (Object[] c : cases) {
                Mask m = (Mask) c[1];
                int batch = 70;
                float[] w = rand(rng, m.out * m.in), bias = rand(rng, m.out), x = rand(rng, m.in * batch), dy = rand(rng, m.out * batch);
                RefLayer want = RefLayer.of(m, w, bias, x, dy, batch);
                RefLayer scale = RefLayer.of(m, abs(w), abs(bias), abs(x), abs(dy), batch);
                float[][] got = new float[2][];
                int pass = 0;
                for (CudaBackend be : new CudaBackend[] {custom, tf32}) {
                    try (LayerPlan p = be.plan(m);
                         Tensor W = be.vector(p.packedSize()); Tensor B = be.vector(m.out);
                         Tensor X = upload(be, x, m.in, batch); Tensor DY = upload(be, dy, m.out, batch);
                         Tensor Y = upload(be, null, m.out, batch); Tensor DX = upload(be, null, m.in, batch);
                         Tensor GW = be.vector(p.packedSize()); Tensor GB = be.vector(m.out)) {
                        be.pack(p, w, W);
                        be.write(B, bias);
                        be.forward(p, W, B, X, Y, batch, true);
                        be.backwardInput(p, W, DY, DX, batch);
                        be.weightGrad(p, X, DY, GW, GB, batch);
                        float[] y = download(be, Y, batch, c[0] + ""), dx = download(be, DX, batch, c[0] + ""),
                                gw = be.unpack(p, GW);
                        if (be == tf32) {
                            assertTf32(want.y(), scale.y(), y, c[0] + " tf32 forward");
                            assertTf32(want.dx(), scale.dx(), dx, c[0] + " tf32 backwardInput");
                            assertTf32(want.gw(), scale.gw(), gw, c[0] + " tf32 weightGrad");
                        }
                        float[] all = new float[y.length + dx.length + gw.length];
                        System.arraycopy(y, 0, all, 0, y.length);
                        System.arraycopy(dx, 0, all, y.length, dx.length);
                        System.arraycopy(gw, 0, all, y.length + dx.length, gw.length);
                        got[pass++] = all;
                    }
                }
                assertTrue(!Arrays.equals(got[0], got[1]), c[0] + ": tf32 gave fp32's results bit for bit");
            }
        }
    }

    static void assertTf32(float[] want, float[] scale, float[] got, String what) {
        for (int k = 0; k < want.length; k++) {
            double tol = 2e-3 * scale[k] + 1e-6;
            if (!(Math.abs(want[k] - got[k]) <= tol)) fail(what + ": element " + k + " want " + want[k] + " got " + got[k]);
        }
    }

    @Test
    void correlationMatchesReference() {
        Random rng = new Random(11);
        int out = 70, in = 133;
        for (int batch : BATCHES) {
            float[] y = rand(rng, out * batch), x = rand(rng, in * batch);
            for (int k = 0; k < y.length; k++) y[k] = Math.max(0f, y[k]) + (k % 7 == 0 ? 3f : 0f); // ReLU-like, offset means
            for (Correlation kind : Correlation.values()) {
                String what = kind + " batch " + batch;
                float[] want = refCorrelation(y, x, out, in, batch, kind);
                float[] scale = kind == Correlation.RAW ? refCorrelation(abs(y), abs(x), out, in, batch, kind) : null;
                try (Tensor Y = upload(custom, y, out, batch); Tensor X = upload(custom, x, in, batch); Tensor S = custom.vector(out * in)) {
                    custom.write(S, nan(out * in));
                    custom.correlation(Y, X, batch, kind, S);
                    float[] got = custom.read(S);
                    if (scale != null) {
                        assertBound(want, scale, got, what);
                    } else {
                        for (int k = 0; k < want.length; k++) assertEquals(want[k], got[k], 1e-4, what + " at " + k);
                    }
                }
            }
        }
    }

    static float[] refCorrelation(float[] y, float[] x, int out, int in, int batch, Correlation kind) {
        Tensor Y = REF.tensor(out, batch), X = REF.tensor(in, batch), S = REF.vector(out * in);
        REF.write(Y, y);
        REF.write(X, x);
        REF.correlation(Y, X, batch, kind, S);
        return REF.read(S);
    }

    @Test
    void softmaxCrossEntropyMatchesReference() {
        Random rng = new Random(12);
        for (int classes : new int[] {10, 13}) {
            for (int batch : BATCHES) {
                float[] z = rand(rng, classes * batch);
                for (int k = 0; k < z.length; k++) z[k] *= 4;
                int[] labels = new int[batch];
                for (int b = 0; b < batch; b++) labels[b] = rng.nextInt(classes);
                Tensor Zr = REF.tensor(classes, batch), Dr = REF.tensor(classes, batch), Sr = REF.vector(2);
                IntVector Lr = REF.ints(batch);
                REF.write(Zr, z);
                REF.write(Lr, labels);
                REF.write(Sr, new float[] {5f, 2f});
                REF.softmaxCrossEntropy(Zr, Lr, Dr, Sr, batch);
                String what = classes + " classes, batch " + batch;
                try (Tensor Z = upload(custom, z, classes, batch); Tensor D = upload(custom, null, classes, batch);
                     Tensor S = custom.vector(2); IntVector L = custom.ints(batch)) {
                    custom.write(L, labels);
                    custom.write(S, new float[] {5f, 2f});
                    custom.softmaxCrossEntropy(Z, L, D, S, batch);
                    float[] dz = download(custom, D, batch, what), want = REF.read(Dr);
                    for (int k = 0; k < dz.length; k++) assertEquals(want[k], dz[k], 1e-6, what + " dlogits " + k);
                    float[] st = custom.read(S), sw = REF.read(Sr);
                    assertEquals(sw[0], st[0], 1e-5 * Math.abs(sw[0]), what + " loss sum");
                    assertEquals(sw[1], st[1], 0f, what + " correct");
                    custom.softmaxCrossEntropy(Z, L, null, S, batch); // evaluation: no gradient
                    assertEquals(sw[1] * 2 - 2f, custom.read(S)[1], 0f, what + " correct accumulates");
                }
            }
        }
    }

    @Test
    void reluBackwardIsExact() {
        Random rng = new Random(13);
        int rows = 45, batch = 300;
        float[] y = rand(rng, rows * batch), dy = rand(rng, rows * batch);
        for (int k = 0; k < y.length; k += 5) y[k] = 0f; // y == 0 counts as inactive
        float[] want = dy.clone();
        for (int k = 0; k < y.length; k++) if (y[k] <= 0f) want[k] = 0f;
        try (Tensor Y = upload(custom, y, rows, batch); Tensor DY = upload(custom, dy, rows, batch)) {
            custom.reluBackward(Y, DY, batch);
            assertArrayEquals(want, download(custom, DY, batch, "reluBackward"));
        }
    }

    /** Optimizer inputs with holes (all zero) and tiny values that exercise the denormal flush. */
    static float[][] optimizerState(Random rng, int n) {
        float[] w = rand(rng, n), g = rand(rng, n), m = rand(rng, n), v = abs(rand(rng, n));
        for (int k = 0; k < n; k += 7) { w[k] = 0f; g[k] = 0f; m[k] = 0f; v[k] = 0f; }
        for (int k = 3; k < n; k += 11) { g[k] = 1e-20f; m[k] = 1e-31f; v[k] = 1e-35f; w[k] = 0f; }
        for (int k = 0; k < n; k++) g[k] *= 0.01f;
        return new float[][] {w, g, m, v};
    }

    /**
     * The CPU backend, whose float arithmetic for Adam, SGD and EMA the kernels reproduce bit for bit;
     * the independent {@link ReferenceBackend} (double, rounded once) is checked too, within the bound
     * of {@link #assertNearReference}.
     */
    static final CpuBackend HOST = new CpuBackend(1);

    @Test
    void adamSgdEmaAreBitExact() {
        Random rng = new Random(14);
        int n = 100_003;
        for (long t : new long[] {1, 2, 1000}) {
            float[][] s = optimizerState(rng, n);
            Tensor[] host = new Tensor[4], ref = new Tensor[4];
            for (int k = 0; k < 4; k++) {
                host[k] = HOST.vector(n); HOST.write(host[k], s[k]);
                ref[k] = REF.vector(n); REF.write(ref[k], s[k]);
            }
            HOST.adam(host[0], host[1], host[2], host[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
            REF.adam(ref[0], ref[1], ref[2], ref[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
            try (Tensor w = custom.vector(n); Tensor g = custom.vector(n); Tensor m = custom.vector(n); Tensor v = custom.vector(n)) {
                Tensor[] dev = {w, g, m, v};
                for (int k = 0; k < 4; k++) custom.write(dev[k], s[k]);
                custom.adam(w, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                assertArrayEquals(HOST.read(host[0]), custom.read(w), "adam w, t=" + t);
                assertArrayEquals(HOST.read(host[2]), custom.read(m), "adam m, t=" + t);
                assertArrayEquals(HOST.read(host[3]), custom.read(v), "adam v, t=" + t);
                assertNearReference(REF.read(ref[0]), custom.read(w), "adam w against the reference, t=" + t, s);
                assertNearReference(REF.read(ref[2]), custom.read(m), "adam m against the reference, t=" + t, s);
                assertNearReference(REF.read(ref[3]), custom.read(v), "adam v against the reference, t=" + t, s);
            }
        }
        for (boolean nesterov : new boolean[] {false, true}) {
            for (float momentum : new float[] {0f, 0.9f}) {
                float[][] s = optimizerState(rng, n);
                Tensor hw = HOST.vector(n), hg = HOST.vector(n), hb = HOST.vector(n);
                HOST.write(hw, s[0]); HOST.write(hg, s[1]); HOST.write(hb, s[2]);
                HOST.sgd(hw, hg, hb, 0.05f, momentum, nesterov, 5e-4f);
                Tensor rw = REF.vector(n), rg = REF.vector(n), rb = REF.vector(n);
                REF.write(rw, s[0]); REF.write(rg, s[1]); REF.write(rb, s[2]);
                REF.sgd(rw, rg, rb, 0.05f, momentum, nesterov, 5e-4f);
                try (Tensor w = custom.vector(n); Tensor g = custom.vector(n); Tensor b = custom.vector(n)) {
                    custom.write(w, s[0]); custom.write(g, s[1]); custom.write(b, s[2]);
                    custom.sgd(w, g, b, 0.05f, momentum, nesterov, 5e-4f);
                    String what = "sgd momentum " + momentum + " nesterov " + nesterov;
                    assertArrayEquals(HOST.read(hw), custom.read(w), what + " w");
                    assertArrayEquals(HOST.read(hb), custom.read(b), what + " buf");
                    assertNearReference(REF.read(rw), custom.read(w), what + " w against the reference", s[0], s[1], s[2]);
                    assertNearReference(REF.read(rb), custom.read(b), what + " buf against the reference", s[0], s[1], s[2]);
                }
            }
        }
        int rows = 33, cols = 70; // a padded matrix: EMA runs over the padding like HostOps
        float[] a = rand(rng, rows * cols), c = rand(rng, rows * cols);
        Tensor ha = HOST.tensor(rows, cols), hc = HOST.tensor(rows, cols);
        HOST.write(ha, a);
        HOST.write(hc, c);
        HOST.ema(ha, hc, 0.95f);
        Tensor ra = REF.tensor(rows, cols), rc = REF.tensor(rows, cols);
        REF.write(ra, a);
        REF.write(rc, c);
        REF.ema(ra, rc, 0.95f);
        try (Tensor da = custom.tensor(rows, cols); Tensor dc = custom.tensor(rows, cols)) {
            custom.write(da, a);
            custom.write(dc, c);
            custom.ema(da, dc, 0.95f);
            assertArrayEquals(HOST.read(ha), custom.read(da), "ema");
            assertNearReference(REF.read(ra), custom.read(da), "ema against the reference", a, c);
        }
    }

    /**
     * The reference computes each element in double and rounds once; the kernels round after each of
     * their few float operations, an error under 1e-6 of the magnitudes that enter the element (the
     * result and the inputs, which bound every term and the update), and flush state below 1e-30,
     * which moves a weight by at most lr 1e-30 / ((1 - beta1) eps) = 1e-22 here:
     * |got - want| <= 1e-6 (|want| + sum |input|) + 1e-20.
     */
    static void assertNearReference(float[] want, float[] got, String what, float[]... inputs) {
        assertEquals(want.length, got.length, what + ": length");
        for (int k = 0; k < want.length; k++) {
            double scale = Math.abs(want[k]);
            for (float[] in : inputs) scale += Math.abs(in[k]);
            if (!(Math.abs(got[k] - want[k]) <= 1e-6 * scale + 1e-20)) {
                fail(what + ": element " + k + " want " + want[k] + " got " + got[k]);
            }
        }
    }

    @Test
    void gatherIsExact() {
        Random rng = new Random(15);
        int n = 1000, features = 70, batch = 45, offset = 17;
        float[] images = rand(rng, n * features);
        int[] labels = new int[n], order = new int[n];
        for (int k = 0; k < n; k++) { labels[k] = rng.nextInt(10); order[k] = k; }
        for (int k = n - 1; k > 0; k--) { int j = rng.nextInt(k + 1); int t = order[k]; order[k] = order[j]; order[j] = t; }
        float[] want = new float[features * batch];
        int[] wantY = new int[batch];
        for (int b = 0; b < batch; b++) {
            int s = order[offset + b];
            for (int f = 0; f < features; f++) want[f * batch + b] = images[s * features + f];
            wantY[b] = labels[s];
        }
        try (Tensor I = custom.tensor(n, features); IntVector L = custom.ints(n); IntVector O = custom.ints(n);
             Tensor X = upload(custom, null, features, batch); IntVector Y = custom.ints(batch)) {
            custom.write(I, images);
            custom.write(L, labels);
            custom.write(O, order);
            custom.gather(I, L, O, offset, batch, X, Y);
            assertArrayEquals(want, download(custom, X, batch, "gather"));
            assertArrayEquals(wantY, custom.read(Y));
        }
    }

    @Test
    void memoryOpsAreExact() {
        Random rng = new Random(16);
        int rows = 9, cols = 1024; // 4 KiB rows: padded ld
        float[] a = rand(rng, rows * cols);
        try (Tensor t = custom.tensor(rows, cols); Tensor u = custom.tensor(rows, cols)) {
            assertTrue(t.ld > cols);
            assertArrayEquals(new float[rows * cols], custom.read(t), "tensors start at zero");
            custom.write(t, a);
            assertArrayEquals(a, custom.read(t));
            custom.copy(t, u);
            assertArrayEquals(a, custom.read(u));
            custom.zero(t);
            assertArrayEquals(new float[rows * cols], custom.read(t));
        }
    }

    @Test
    void closingFreesEverything() {
        try (CudaBackend be = (CudaBackend) Cuda.open(0, "custom")) {
            long before = be.deviceBytes();
            Tensor t = be.tensor(100, 100);
            LayerPlan p = be.plan((Mask) TestMasks.cases(1).get(0)[1]);
            assertTrue(be.deviceBytes() > before);
            t.close();
            t.close(); // idempotent
            p.close();
            assertEquals(before, be.deviceBytes());
            be.tensor(10, 10); // left open on purpose: backend.close() must free it
            assertTrue(be.liveAllocations() > 0);
            be.close();
            assertEquals(0, be.liveAllocations());
            assertEquals(0, be.deviceBytes());
        }
    }
}

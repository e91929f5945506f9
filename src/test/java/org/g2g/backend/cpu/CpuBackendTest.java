package org.g2g.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.g2g.backend.Correlation;
import org.g2g.backend.IntVector;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer op of {@link CpuBackend} against the naive {@link ReferenceBackend} on fresh
 * random inputs. Error bound: ||fast - ref||_2 <= 1e-5 * ||ref||_2 per output (float
 * accumulation against the reference's double sums). Outputs are poisoned with NaN before
 * each call, and inputs' row padding holds NaN, so an unwritten element or a padding lane
 * that leaks into a result fails.
 */
class CpuBackendTest {
    static final double TOL = 1e-5;
    static CpuBackend fast, vector;
    static final ReferenceBackend ref = new ReferenceBackend();

    @BeforeAll
    static void setUp() {
        fast = new CpuBackend(2, DenseEngine.OPENBLAS);
        vector = new CpuBackend(2, DenseEngine.VECTOR);
    }

    @AfterAll
    static void tearDown() {
        fast.close();
        vector.close();
    }

    /** Every case on both dense engines (OpenBLAS where it loads, and the Vector API kernels). */
    static Stream<Arguments> casesBothEngines() {
        return cases().flatMap(a -> Stream.of(DenseEngine.values()).map(e -> Arguments.of(a.get()[0], a.get()[1], e)));
    }

    /** The kernels-avx2 execution asks for 256-bit vectors: the tests there must really run them. */
    @Test
    void vectorWidthIsTheOneThisJvmWasToldToUse() {
        String max = System.getProperty("g2g.test.maxVectorBits");
        assertTrue(max == null || Kernels.S.vectorBitSize() <= Integer.parseInt(max),
                "Vector API species " + Kernels.S + " wider than " + max + " bits");
        System.out.println("CpuBackendTest: Vector API " + Kernels.S.vectorBitSize() + "-bit");
    }

    /** The spinning work pool: every part runs once per call, a worker's exception reaches the caller, and the pool goes on. */
    @Test
    void workPoolRunsEveryPartAndReportsFailures() {
        try (WorkPool pool = new WorkPool(3)) {
            for (int call = 0; call < 2000; call++) {
                int[] hits = new int[3];
                pool.run(t -> hits[t]++);
                assertArrayEquals(new int[]{1, 1, 1}, hits);
            }
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> pool.run(t -> { if (t == 2) throw new IllegalArgumentException("part 2"); }));
            assertEquals("part 2", e.getMessage());
            long[] sum = new long[3];
            pool.run(t -> { for (int k = 0; k < 1000; k++) sum[t] += k; });
            assertArrayEquals(new long[]{499500, 499500, 499500}, sum);
        }
    }

    @Test
    void openBlasLoadsHere() {
        // the build ships OpenBLAS for Linux x86-64 (the machines CI runs on): a silent fallback would hide a regression
        if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertEquals(DenseEngine.OPENBLAS, fast.denseEngine(), NativeBlas.STATUS);
        }
        assertEquals(DenseEngine.VECTOR, vector.denseEngine());
    }

    record Case(String name, Mask mask) {
        @Override public String toString() { return name + " " + mask.out + "x" + mask.in; }
    }

    /** Simulated prune/regrow: turn `moves` random active edges off and as many inactive ones on. */
    static Mask moved(Mask m, int moves, Random rng) {
        Mask c = m.copy();
        int n = c.active.length;
        for (int k = 0; k < moves; k++) {
            int off, on;
            do { off = rng.nextInt(n); } while (!c.active[off]);
            do { on = rng.nextInt(n); } while (c.active[on]);
            c.active[off] = false;
            c.active[on] = true;
        }
        return c;
    }

    static Stream<Arguments> cases() {
        Random rng = new Random(42);
        Mask g2g = MaskFactory.g2g(256, 256, 4, 1.0, 0.15, Grouping.INDEX, rng);
        // diagonal blocks thinned to ~80% (a dense tile with holes) and ~40% (sparse edges)
        Mask thin = MaskFactory.g2g(256, 128, 2, 1.0, 0.15, Grouping.INDEX, rng);
        for (int o = 0; o < 128; o++) for (int i = 0; i < 64; i++) if (rng.nextDouble() < 0.2) thin.active[o * 128 + i] = false;
        for (int o = 128; o < 256; o++) for (int i = 64; i < 128; i++) if (rng.nextDouble() < 0.6) thin.active[o * 128 + i] = false;
        Mask dead = MaskFactory.erdosRenyi(40, 24, 0.2, rng);
        for (int i = 0; i < 24; i++) { dead.active[3 * 24 + i] = false; dead.active[17 * 24 + i] = false; }
        return Stream.of(
                Arguments.of(new Case("g2g index G4", g2g), new int[] {1, 7, 100}),
                Arguments.of(new Case("g2g interleaved G8", MaskFactory.g2g(256, 192, 8, 1.0, 0.15, Grouping.INTERLEAVED, rng)), new int[] {7, 256}),
                Arguments.of(new Case("g2g random G8", MaskFactory.g2g(192, 256, 8, 1.0, 0.15, Grouping.RANDOM, rng)), new int[] {1, 100}),
                Arguments.of(new Case("g2g 784->1024 G8", MaskFactory.g2g(1024, 784, 8, 1.0, 0.15, Grouping.INDEX, rng)), new int[] {7}),
                Arguments.of(new Case("g2g after moves", moved(g2g, 3000, rng)), new int[] {7, 100}),
                Arguments.of(new Case("interleaved after moves", moved(MaskFactory.g2g(256, 256, 4, 1.0, 0.15, Grouping.INTERLEAVED, rng), 5000, rng)), new int[] {33}),
                Arguments.of(new Case("thinned block", thin), new int[] {9}),
                // 128: a batch of whole 64-sample chunks takes SparseKernels' chunked path, and an ER row starts from 0 (init false)
                Arguments.of(new Case("ER 0.25", MaskFactory.erdosRenyi(300, 200, 0.25, rng)), new int[] {1, 100, 128}),
                Arguments.of(new Case("ER with dead units", dead), new int[] {5}),
                Arguments.of(new Case("odd g2g groups 1", MaskFactory.g2g(37, 29, 1, 0.5, 0.0, Grouping.INDEX, rng)), new int[] {1, 7, 100}),
                Arguments.of(new Case("dense odd", Mask.dense(37, 29)), new int[] {1, 7, 256}),
                Arguments.of(new Case("dense head", Mask.dense(10, 1024)), new int[] {7, 256}),
                Arguments.of(new Case("dense 300x260", Mask.dense(300, 260)), new int[] {100}),
                // mostly dense layers take the transposed-GEMM weight gradient: holes, permuted rows
                Arguments.of(new Case("ER 0.95", MaskFactory.erdosRenyi(200, 256, 0.95, rng)), new int[] {1, 7, 100}),
                Arguments.of(new Case("g2g random G2 p_inter 0.9", MaskFactory.g2g(96, 128, 2, 1.0, 0.9, Grouping.RANDOM, rng)), new int[] {9, 64}),
                Arguments.of(new Case("one output", MaskFactory.erdosRenyi(1, 5, 0.8, rng)), new int[] {7}),
                Arguments.of(new Case("empty", new Mask(8, 8, new boolean[64], null, null)), new int[] {3}));
    }

    // ---- helpers ----

    static float[] random(Random rng, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) a[k] = (float) rng.nextGaussian();
        return a;
    }

    /** A tensor whose padding (columns past cols, up to ld) holds NaN, with values written in. */
    static Tensor input(org.g2g.backend.Backend be, int rows, int cols, float[] values) {
        Tensor t = be.tensor(rows, cols);
        Arrays.fill(CpuTensor.of(t), Float.NaN);
        be.write(t, values);
        return t;
    }

    static Tensor poisoned(org.g2g.backend.Backend be, int rows, int cols) {
        Tensor t = be.tensor(rows, cols);
        Arrays.fill(CpuTensor.of(t), Float.NaN);
        return t;
    }

    static void assertClose(String what, float[] expect, float[] got) {
        assertEquals(expect.length, got.length, what + ": length");
        double num = 0, den = 0;
        for (int k = 0; k < expect.length; k++) {
            if (Float.isNaN(got[k])) fail(what + ": NaN (unwritten or leaked) at " + k);
            double d = got[k] - expect[k];
            num += d * d;
            den += (double) expect[k] * expect[k];
        }
        double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
        assertTrue(rel <= TOL || Math.sqrt(num) < 1e-30, what + ": relative error " + rel + " > " + TOL);
    }

    /** Packed vector -> dense via the plan, and the packed positions that are holes. */
    static boolean[] holes(CpuBackend be, LayerPlan p) {
        Tensor ind = be.vector(p.packedSize());
        float[] ones = new float[p.mask().out * p.mask().in];
        Arrays.fill(ones, 1f);
        be.pack(p, ones, ind);
        float[] d = CpuTensor.of(ind);
        boolean[] h = new boolean[p.packedSize()];
        for (int k = 0; k < h.length; k++) h[k] = d[CpuTensor.off(ind) + k] == 0f;
        return h;
    }

    // ---- tests ----

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("casesBothEngines")
    void layerOpsMatchReference(Case cs, int[] batches, DenseEngine engine) {
        CpuBackend fast = engine == DenseEngine.VECTOR ? vector : CpuBackendTest.fast;
        Mask m = cs.mask();
        Random rng = new Random(m.out * 31L + m.in);
        LayerPlan fp = fast.plan(m), rp = ref.plan(m);
        assertEquals(m.activeCount(), fp.activeEdges());
        assertTrue(fp.packedSize() >= fp.activeEdges());

        float[] dense = random(rng, m.out * m.in);
        for (int k = 0; k < dense.length; k++) if (!m.active[k]) dense[k] = 0f;
        Tensor fw = poisoned(fast, 1, fp.packedSize()), rw = ref.vector(rp.packedSize());
        fast.pack(fp, dense, fw);
        ref.pack(rp, dense, rw);
        assertArrayEquals(dense, fast.unpack(fp, fw), "pack/unpack round trip");
        boolean[] hole = holes(fast, fp);
        if (cs.name().equals("thinned block") || cs.name().equals("g2g after moves")) {
            int holesInTiles = 0;
            for (boolean h : hole) if (h) holesInTiles++;
            assertTrue(holesInTiles > 0, "case meant to test holes inside dense tiles has none");
        }
        float[] fwData = CpuTensor.of(fw);
        for (int k = 0; k < hole.length; k++) if (hole[k]) assertEquals(0f, fwData[CpuTensor.off(fw) + k], "packed hole holds 0");
        float[] bias = random(rng, m.out);
        Tensor fb = input(fast, 1, m.out, bias), rb = input(ref, 1, m.out, bias);

        for (int batch : batches) {
            for (int cap : new int[] {batch, 256}) {
                if (cap < batch) continue;
                String at = cs + " batch " + batch + " cap " + cap;
                float[] xv = random(rng, m.in * cap);
                Tensor fx = input(fast, m.in, cap, xv), rx = input(ref, m.in, cap, xv);
                for (boolean relu : new boolean[] {false, true}) {
                    Tensor fy = poisoned(fast, m.out, cap), ry = poisoned(ref, m.out, cap);
                    fast.forward(fp, fw, fb, fx, fy, batch, relu);
                    ref.forward(rp, rw, rb, rx, ry, batch, relu);
                    assertClose(at + " forward relu=" + relu, cols(ref.read(ry), cap, batch), cols(fast.read(fy), cap, batch));
                }
                float[] gv = random(rng, m.out * cap);
                Tensor fg = input(fast, m.out, cap, gv), rg = input(ref, m.out, cap, gv);
                Tensor fdx = poisoned(fast, m.in, cap), rdx = poisoned(ref, m.in, cap);
                fast.backwardInput(fp, fw, fg, fdx, batch);
                ref.backwardInput(rp, rw, rg, rdx, batch);
                assertClose(at + " backwardInput", cols(ref.read(rdx), cap, batch), cols(fast.read(fdx), cap, batch));

                Tensor fgw = poisoned(fast, 1, fp.packedSize()), rgw = ref.vector(rp.packedSize());
                Tensor fgb = poisoned(fast, 1, m.out), rgb = ref.vector(m.out);
                fast.weightGrad(fp, fx, fg, fgw, fgb, batch);
                ref.weightGrad(rp, rx, rg, rgw, rgb, batch);
                float[] gw = CpuTensor.of(fgw);
                int go = CpuTensor.off(fgw);
                for (int k = 0; k < fp.packedSize(); k++) {
                    if (Float.isNaN(gw[go + k])) fail(at + " weightGrad: packed element " + k + " unwritten");
                    if (hole[k] && gw[go + k] != 0f) fail(at + " weightGrad: hole " + k + " holds " + gw[go + k]);
                }
                assertClose(at + " weightGrad", ref.unpack(rp, rgw), fast.unpack(fp, fgw));
                assertClose(at + " biasGrad", ref.read(rgb), fast.read(fgb));
            }
        }
    }

    static float[] cols(float[] a, int cap, int batch) {
        int rows = a.length / cap;
        float[] out = new float[rows * batch];
        for (int r = 0; r < rows; r++) System.arraycopy(a, r * cap, out, r * batch, batch);
        return out;
    }

    @Test
    void correlationMatchesReference() {
        Random rng = new Random(7);
        int[][] shapes = {{37, 29, 7}, {128, 96, 100}, {10, 300, 1}, {64, 64, 256}};
        for (int[] s : shapes) {
            int out = s[0], in = s[1], batch = s[2];
            float[] yv = random(rng, out * batch), xv = random(rng, in * batch);
            for (int k = 0; k < yv.length; k++) yv[k] += 0.5f; // a mean for Pearson to remove
            for (Correlation kind : Correlation.values()) {
                Tensor fy = input(fast, out, batch, yv), fx = input(fast, in, batch, xv);
                Tensor ry = input(ref, out, batch, yv), rx = input(ref, in, batch, xv);
                Tensor fs = poisoned(fast, 1, out * in), rs = ref.vector(out * in);
                fast.correlation(fy, fx, batch, kind, fs);
                ref.correlation(ry, rx, batch, kind, rs);
                assertClose(kind + " " + Arrays.toString(s), ref.read(rs), fast.read(fs));
            }
        }
    }

    /** The scalar float Adam that the vector Adam (and the CUDA kernel) reproduce bit for bit. */
    static final HostOps host = new HostOps() {};

    @Test
    void adamIsBitIdenticalToHostOps() {
        Random rng = new Random(3);
        for (int n : new int[] {1003, 100_003}) {
            float[] w = random(rng, n), g = random(rng, n);
            for (int k = 0; k < n; k += 17) { w[k] = 0; g[k] = 0; }           // holes stay 0
            for (int k = 5; k < n; k += 31) if (k % 17 != 0) g[k] = 1e-20f;     // state that must flush
            Tensor fw = input(fast, 1, n, w), fg = input(fast, 1, n, g), fm = fast.vector(n), fv = fast.vector(n);
            Tensor hw = host.tensor(1, n), hg = host.tensor(1, n), hm = host.tensor(1, n), hv = host.tensor(1, n);
            host.write(hw, w);
            host.write(hg, g);
            Tensor rw = input(ref, 1, n, w), rg = input(ref, 1, n, g), rm = ref.vector(n), rv = ref.vector(n);
            for (long t = 1; t <= 3; t++) {
                fast.adam(fw, fg, fm, fv, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                host.adam(hw, hg, hm, hv, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
                ref.adam(rw, rg, rm, rv, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, t);
            }
            assertArrayEquals(host.read(hw), fast.read(fw));
            assertArrayEquals(host.read(hm), fast.read(fm));
            assertArrayEquals(host.read(hv), fast.read(fv));
            assertNear("adam w", ref.read(rw), fast.read(fw), w, g);
            assertNear("adam m", ref.read(rm), fast.read(fm), w, g);
            assertNear("adam v", ref.read(rv), fast.read(fv), w, g);
            float[] r = fast.read(fw);
            for (int k = 0; k < n; k += 17) assertEquals(0f, r[k]);
        }
    }

    /**
     * Elementwise against the reference's optimizer, which works in double and rounds once. The
     * fast backend rounds after each of its few float operations, an error under 1e-6 of the
     * magnitudes that enter the element (the result and the inputs, which bound every term and the
     * update); it also flushes state below 1e-30 to zero, which moves a weight by at most
     * lr 1e-30 / ((1 - beta1) eps) = 1e-22 here: |got - want| <= 1e-6 (|want| + sum |input|) + 1e-20.
     */
    static void assertNear(String what, float[] want, float[] got, float[]... inputs) {
        assertEquals(want.length, got.length, what + ": length");
        for (int k = 0; k < want.length; k++) {
            double scale = Math.abs(want[k]);
            for (float[] in : inputs) scale += Math.abs(in[k]);
            if (!(Math.abs(got[k] - want[k]) <= 1e-6 * scale + 1e-20)) fail(what + " at " + k + ": want " + want[k] + " got " + got[k]);
        }
    }

    @Test
    void gatherAndReluBackwardMatchReference() {
        Random rng = new Random(5);
        int n = 50, f = 37, batch = 13;
        float[] img = random(rng, n * f);
        int[] lab = new int[n], ord = new int[n];
        for (int k = 0; k < n; k++) { lab[k] = rng.nextInt(10); ord[k] = (k * 7) % n; }
        Tensor fi = input(fast, n, f, img), ri = input(ref, n, f, img);
        IntVector fl = fast.ints(n), rl = ref.ints(n), fo = fast.ints(n), ro = ref.ints(n);
        fast.write(fl, lab); ref.write(rl, lab); fast.write(fo, ord); ref.write(ro, ord);
        Tensor fx = poisoned(fast, f, batch), rx = poisoned(ref, f, batch);
        IntVector fyb = fast.ints(batch), ryb = ref.ints(batch);
        fast.gather(fi, fl, fo, 20, batch, fx, fyb);
        ref.gather(ri, rl, ro, 20, batch, rx, ryb);
        assertArrayEquals(ref.read(rx), fast.read(fx));
        assertArrayEquals(ref.read(ryb), fast.read(fyb));

        int rows = 21, cap = 37;
        float[] y = random(rng, rows * cap), g = random(rng, rows * cap);
        Tensor fy = input(fast, rows, cap, y), fg = input(fast, rows, cap, g);
        Tensor ry = input(ref, rows, cap, y), rg = input(ref, rows, cap, g);
        fast.reluBackward(fy, fg, 30);
        ref.reluBackward(ry, rg, 30);
        assertArrayEquals(ref.read(rg), fast.read(fg));
    }

    /** Same seed and thread count: identical bits, across fresh backends and repeated calls. */
    @Test
    void deterministicWithTwoThreads() {
        Mask m = MaskFactory.g2g(1024, 512, 8, 1.0, 0.15, Grouping.INTERLEAVED, new Random(11));
        float[][] first = null;
        for (int run = 0; run < 3; run++) {
            try (CpuBackend be = new CpuBackend(2)) {
                float[][] r = layerRun(be, m, 256);
                if (first == null) first = r;
                else for (int k = 0; k < r.length; k++) assertArrayEquals(first[k], r[k], "run " + run + " output " + k);
            }
        }
    }

    static float[][] layerRun(CpuBackend be, Mask m, int batch) {
        Random rng = new Random(99);
        LayerPlan p = be.plan(m);
        float[] dense = random(rng, m.out * m.in);
        Tensor w = be.vector(p.packedSize()), b = be.vector(m.out);
        be.pack(p, dense, w);
        be.write(b, random(rng, m.out));
        Tensor x = be.tensor(m.in, batch), y = be.tensor(m.out, batch), g = be.tensor(m.out, batch);
        be.write(x, random(rng, m.in * batch));
        be.write(g, random(rng, m.out * batch));
        Tensor dx = be.tensor(m.in, batch), gw = be.vector(p.packedSize()), gb = be.vector(m.out);
        Tensor sc = be.vector(m.out * m.in);
        be.forward(p, w, b, x, y, batch, true);
        be.backwardInput(p, w, g, dx, batch);
        be.weightGrad(p, x, g, gw, gb, batch);
        be.correlation(y, x, batch, Correlation.PEARSON, sc);
        return new float[][] {be.read(y), be.read(dx), be.read(gw), be.read(gb), be.read(sc)};
    }
}

package org.g2g.backend.cpu;

import static org.g2g.backend.cpu.CpuBackendTest.assertClose;
import static org.g2g.backend.cpu.CpuBackendTest.cols;
import static org.g2g.backend.cpu.CpuBackendTest.input;
import static org.g2g.backend.cpu.CpuBackendTest.poisoned;
import static org.g2g.backend.cpu.CpuBackendTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.g2g.backend.LayerPlan;
import org.g2g.backend.Tensor;
import org.g2g.backend.layout.GroupedLayout.Block;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every split and engine of {@link DenseSplit}, forced, against the naive {@link ReferenceBackend}
 * on dense layers of the shapes it serves (the head, the patch encoder, odd sizes), at 1, 2 and
 * 3 workers and batches that leave some workers no columns; outputs poisoned with NaN and
 * input padding NaN as in {@link CpuBackendTest}. Then which split the backend picks per shape.
 */
class DenseSplitTest {
    static CpuBackend tensors;
    static final ReferenceBackend ref = new ReferenceBackend();

    @BeforeAll
    static void setUp() { tensors = new CpuBackend(1, DenseEngine.OPENBLAS); }

    @AfterAll
    static void tearDown() { tensors.close(); }

    @ParameterizedTest(name = "{0}x{1} threads {2}")
    @CsvSource({"10,1024,2", "10,1024,3", "32,49,1", "32,49,2", "32,49,3", "37,29,2", "100,70,2", "3,5,2"})
    void everySplitMatchesReference(int out, int in, int threads) {
        assumeTrue(NativeBlas.available(), NativeBlas.STATUS);
        Mask m = Mask.dense(out, in);
        Random rng = new Random(out * 1000L + in);
        try (WorkPool pool = new WorkPool(threads)) {
            DenseSplit ds = new DenseSplit(pool, new CpuWorkspace());
            CpuPlan p = new CpuPlan(m, threads);
            Block k = DenseSplit.denseBlock(p);
            assertNotNull(k, "a dense mask is one block");
            LayerPlan rp = ref.plan(m);
            float[] dense = random(rng, out * in);
            Tensor w = poisoned(tensors, 1, p.packedSize()), rw = ref.vector(rp.packedSize());
            tensors.pack(p, dense, w);
            ref.pack(rp, dense, rw);
            float[] bias = random(rng, out);
            Tensor b = input(tensors, 1, out, bias), rb = input(ref, 1, out, bias);
            for (int batch : new int[] {1, 7, 33, 100, 1100}) {
                int cap = batch + 5;
                String at = out + "x" + in + " threads " + threads + " batch " + batch;
                float[] xv = random(rng, in * cap), gv = random(rng, out * cap);
                if (batch > 3) for (int r = 0; r < out; r++) gv[r * cap + 3] = 1e-32f; // column 3 of dX sums below the flush limit
                Tensor x = input(tensors, in, cap, xv), rx = input(ref, in, cap, xv);
                Tensor g = input(tensors, out, cap, gv), rg = input(ref, out, cap, gv);
                Tensor ry = poisoned(ref, out, cap), rdx = poisoned(ref, in, cap);
                ref.forward(rp, rw, rb, rx, ry, batch, true);
                ref.backwardInput(rp, rw, rg, rdx, batch);
                Tensor rgw = ref.vector(rp.packedSize()), rgb = ref.vector(out);
                ref.weightGrad(rp, rx, rg, rgw, rgb, batch);
                for (DenseSplit.Engine e : DenseSplit.Engine.values()) {
                    DenseSplit.Choice ch = new DenseSplit.Choice(DenseSplit.Split.COLUMNS, e);
                    Tensor y = poisoned(tensors, out, cap);
                    ds.forward(ch, k, CpuTensor.of(w), CpuTensor.off(w), CpuTensor.of(b), CpuTensor.off(b),
                            CpuTensor.of(x), CpuTensor.off(x), x.ld, CpuTensor.of(y), CpuTensor.off(y), y.ld, batch, true);
                    assertClose(at + " forward " + ch, cols(ref.read(ry), cap, batch), cols(tensors.read(y), cap, batch));
                    Tensor dx = poisoned(tensors, in, cap);
                    ds.backwardInput(ch, k, CpuTensor.of(w), CpuTensor.off(w), CpuTensor.of(g), CpuTensor.off(g), g.ld,
                            CpuTensor.of(dx), CpuTensor.off(dx), dx.ld, batch);
                    float[] got = cols(tensors.read(dx), cap, batch);
                    assertClose(at + " backwardInput " + ch, cols(ref.read(rdx), cap, batch), got);
                    for (float v : got) if (v != 0f && Math.abs(v) < Kernels.TINY) throw new AssertionError(at + " unflushed " + v);
                }
                for (DenseSplit.Split s : new DenseSplit.Split[] {DenseSplit.Split.COLUMNS, DenseSplit.Split.DEPTH}) {
                    DenseSplit.Choice ch = new DenseSplit.Choice(s, DenseSplit.Engine.OPENBLAS);
                    Tensor gw = poisoned(tensors, 1, p.packedSize()), gb = poisoned(tensors, 1, out);
                    ds.weightGrad(ch, k, CpuTensor.of(x), CpuTensor.off(x), x.ld, CpuTensor.of(g), CpuTensor.off(g), g.ld,
                            CpuTensor.of(gw), CpuTensor.off(gw), CpuTensor.of(gb), CpuTensor.off(gb), batch, new Kernels.Cols(batch));
                    assertClose(at + " weightGrad " + ch, ref.unpack(rp, rgw), tensors.unpack(p, gw));
                    assertClose(at + " biasGrad " + ch, ref.read(rgb), tensors.read(gb));
                }
            }
        }
    }

    /** The batch split of the weight gradient sums its slices in one order: the same bits on every call. */
    @Test
    void depthSplitIsDeterministic() {
        assumeTrue(NativeBlas.available(), NativeBlas.STATUS);
        int out = 32, in = 49, batch = 4096;
        Random rng = new Random(5);
        try (WorkPool pool = new WorkPool(2)) {
            DenseSplit ds = new DenseSplit(pool, new CpuWorkspace());
            CpuPlan p = new CpuPlan(Mask.dense(out, in), 2);
            Block k = DenseSplit.denseBlock(p);
            Tensor x = input(tensors, in, batch, random(rng, in * batch)), g = input(tensors, out, batch, random(rng, out * batch));
            float[] first = null;
            for (int call = 0; call < 3; call++) {
                Tensor gw = poisoned(tensors, 1, p.packedSize()), gb = poisoned(tensors, 1, out);
                ds.weightGrad(DenseSplit.weightGrad(p, 2), k, CpuTensor.of(x), CpuTensor.off(x), x.ld, CpuTensor.of(g),
                        CpuTensor.off(g), g.ld, CpuTensor.of(gw), CpuTensor.off(gw), CpuTensor.of(gb), CpuTensor.off(gb), batch,
                        new Kernels.Cols(batch));
                float[] r = tensors.read(gw);
                if (first == null) first = r;
                else assertArrayEquals(first, r, "call " + call);
            }
        }
    }

    /** Which split and engine each shape of the default step gets with two workers. */
    @Test
    void choicesForTheDefaultShapes() {
        DenseSplit.Choice cols = new DenseSplit.Choice(DenseSplit.Split.COLUMNS, DenseSplit.Engine.VECTOR);
        CpuPlan head = new CpuPlan(Mask.dense(10, 1024), 2), enc = new CpuPlan(Mask.dense(32, 49), 2);
        CpuPlan layer = new CpuPlan(Mask.dense(1024, 512), 2), mid = new CpuPlan(Mask.dense(100, 784), 2);
        assertEquals(cols, DenseSplit.forward(head, 2));
        assertEquals(cols, DenseSplit.backwardInput(head, 2));
        assertEquals(DenseSplit.Split.COLUMNS, DenseSplit.weightGrad(head, 2).split());
        assertEquals(cols, DenseSplit.forward(enc, 2));
        assertEquals(cols, DenseSplit.backwardInput(enc, 2));
        assertEquals(DenseSplit.Split.DEPTH, DenseSplit.weightGrad(enc, 2).split());
        for (DenseSplit.Choice c : new DenseSplit.Choice[] {DenseSplit.forward(layer, 2), DenseSplit.backwardInput(layer, 2),
                DenseSplit.weightGrad(layer, 2)}) {
            assertEquals(new DenseSplit.Choice(DenseSplit.Split.ROWS, DenseSplit.Engine.OPENBLAS), c);
        }
        // 100 rows are one panel: OpenBLAS on batch columns; its input gradient has 7 column panels
        assertEquals(new DenseSplit.Choice(DenseSplit.Split.COLUMNS, DenseSplit.Engine.OPENBLAS), DenseSplit.forward(mid, 2));
        assertEquals(DenseSplit.Split.ROWS, DenseSplit.backwardInput(mid, 2).split());
        assertEquals(DenseSplit.Split.COLUMNS, DenseSplit.weightGrad(mid, 2).split());
        // a G2G layer is not one dense block: BlasLayers' panels serve it
        assertNull(DenseSplit.denseBlock(new CpuPlan(MaskFactory.g2g(256, 256, 4, 1.0, 0.15, Grouping.INDEX, new Random(1)), 2)));
    }
}

package org.g2g.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.g2g.backend.Backend;
import org.g2g.backend.IntVector;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.config.ModelKind;
import org.g2g.config.RunConfig;
import org.g2g.data.Split;
import org.g2g.dst.DynamicSparseTraining;
import org.g2g.model.Architecture;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.g2g.train.Layer;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.g2g.train.ResidentSplit;
import org.g2g.train.Trainer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-training parity (mvn test -Pgpu): 40 Adam steps of a small G2G MLP
 * (64 -> 72 g2g index -> 48 g2g interleaved -> 10 dense), with a DST update (prune 10% /
 * regrow 10% at random, same moves on both sides) after step 20, on the CUDA backend and on
 * ReferenceBackend, same data order, through train's own step (Network, Trainer.trainStep). Tolerances: every step's summed loss within 1e-3 relative,
 * the correct counts within 1 per step, final weights within 1e-3 * (1 + |w|). Differences
 * come only from fp32 summation order (the reference sums in double) and grow slowly with steps.
 */
@Tag("gpu")
class CudaTrainingParityTest {
    @ParameterizedTest(name = "sparse engine {0}")
    @ValueSource(strings = {"custom", "cusparse"})
    void trainingMatchesReference(String engine) {
        GpuTests.requireGpu();
        CudaStatus s = Cuda.probe();
        assumeTrue(!engine.equals("cusparse") || s.cusparse().startsWith("loaded"), "cuSPARSE " + s.cusparse());
        Random rng = new Random(5);
        List<Mask> masks = List.of(
                MaskFactory.g2g(72, 64, 8, 1.0, 0.15, Grouping.INDEX, rng),
                MaskFactory.g2g(48, 72, 8, 1.0, 0.15, Grouping.INTERLEAVED, rng),
                Mask.dense(10, 48));
        int n = 600, features = 64, batch = 50, steps = 40;
        float[] images = new float[n * features];
        int[] labels = new int[n], order = new int[n];
        for (int k = 0; k < n; k++) {
            labels[k] = rng.nextInt(10);
            order[k] = (k * 7919) % n;
            for (int f = 0; f < features; f++) images[k * features + f] = (float) (rng.nextDouble() + (f % 10 == labels[k] ? 0.5 : 0));
        }
        Mask moved0 = TestMasks.dstMoves(masks.get(0), 0.1, new Random(9));
        Mask moved1 = TestMasks.dstMoves(masks.get(1), 0.1, new Random(10));
        try (Backend gpu = Cuda.open(0, engine)) {
            List<float[]> a = train(gpu, masks, images, labels, order, batch, steps, moved0, moved1);
            List<float[]> b = train(new ReferenceBackend(), masks, images, labels, order, batch, steps, moved0, moved1);
            for (int t = 0; t < steps; t++) {
                float[] x = a.get(t), y = b.get(t);
                assertEquals(y[0], x[0], 1e-3 * Math.abs(y[0]), "loss at step " + t);
                assertEquals(y[1], x[1], 1.0, "correct at step " + t);
            }
            for (int k = 0; k < 3; k++) {
                float[] wa = a.get(steps + k), wb = b.get(steps + k);
                for (int i = 0; i < wa.length; i++) assertEquals(wb[i], wa[i], 1e-3 * (1 + Math.abs(wb[i])), "layer " + k + " weight " + i);
            }
            assertTrue(a.get(steps - 1)[0] < a.get(0)[0], "the loss went down");
        }
    }

    /**
     * Per-step [loss sum, correct], then the final dense weights of every layer: train's own step
     * (Trainer.trainStep, the optimizer of Optimizer.from) with DST off, the layers re-packed by
     * hand after half the steps (Layer.repack, weights and Adam state kept on the new mask).
     */
    static List<float[]> train(Backend be, List<Mask> masks, float[] images, int[] labels, int[] order, int batch,
                               int steps, Mask moved0, Mask moved1) {
        List<float[]> out = new ArrayList<>();
        int n = labels.length, features = images.length / n;
        int[] widths = {features, masks.get(0).out, masks.get(1).out, masks.get(2).out};
        Architecture arch = new Architecture(ModelKind.G2G, widths, masks, Double.NaN);
        RunConfig c = RunConfig.defaults().with(Map.of("prune", "none", "optimizer", "adam", "lr", 1e-3, "weight-decay", 1e-4));
        try (Network net = new Network(be, widths, masks, arch, Optimizer.from(c), batch, Network.initWeights(arch, new Random(77)));
             DynamicSparseTraining dst = new DynamicSparseTraining(c, net, steps);
             ResidentSplit data = new ResidentSplit(be, new Split(images, labels, n, features));
             IntVector O = be.ints(n)) {
            be.write(O, order);
            PhaseTimer timer = new PhaseTimer(be, false);
            for (int t = 0; t < steps; t++) {
                if (t == steps / 2) {
                    repack(be, net.layers[0], moved0);
                    repack(be, net.layers[1], moved1);
                }
                int offset = (t * batch) % (n - batch);
                Trainer.trainStep(net, dst, timer, data, O, offset, batch, (float) c.lr(), t + 1);
                double[] st = net.takeStats();
                out.add(new float[] {(float) st[0], (float) st[1]});
            }
            for (Layer L : net.layers) out.add(L.denseWeights(be));
        }
        return out;
    }

    /** A DST update by hand: layer L gets mask next; weights and optimizer state move to it (new edges start at 0). */
    private static void repack(Backend be, Layer L, Mask next) {
        float[] w = masked(L.denseWeights(be), next);
        float[][] state = L.denseState(be);
        for (float[] s : state) masked(s, next);
        L.repack(be, next, w, state);
    }

    private static float[] masked(float[] dense, Mask m) {
        for (int i = 0; i < dense.length; i++) if (!m.active[i]) dense[i] = 0f;
        return dense;
    }
}

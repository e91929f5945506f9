package org.g2g.dst;

import org.g2g.config.ModelKind;
import org.g2g.backend.Backend;
import org.g2g.backend.cpu.CpuBackend;
import org.g2g.backend.cpu.ReferenceBackend;
import org.g2g.config.RunConfig;
import org.g2g.model.Architecture;
import org.g2g.model.Grouping;
import org.g2g.model.Mask;
import org.g2g.model.MaskFactory;
import org.g2g.train.Layer;
import org.g2g.train.Network;
import org.g2g.train.Optimizer;
import org.g2g.train.PhaseTimer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Prune/regrow invariants, checked against sets computed independently here: the pruned set
 * is the k smallest |w| among active edges, the grown set the k highest cosine scores among
 * the edges inactive after pruning; edge counts are unchanged, new weights and their
 * optimizer state are zero, untouched weights keep their values.
 */
class DstInvariantsTest {
    static final int BATCH = 16;

    record Setup(Backend be, Network net, double[][] xs) {}

    static Setup setup(Backend be, RunConfig c, Random r) {
        int[] widths = {24, 16, 16, 4};
        List<Mask> masks = List.of(
                MaskFactory.g2g(16, 24, 4, 1.0, 0.2, Grouping.INDEX, r),
                MaskFactory.g2g(16, 16, 4, 1.0, 0.2, Grouping.INTERLEAVED, r),
                Mask.dense(4, 16));
        Architecture arch = new Architecture(ModelKind.G2G, widths, masks, 0.4);
        Network net = new Network(be, widths, masks, arch, Optimizer.from(c), BATCH, Network.initWeights(arch, r));
        float[] x = new float[24 * BATCH];
        for (int k = 0; k < x.length; k++) x[k] = r.nextFloat();
        be.write(net.act[0], x);
        int[] y = new int[BATCH];
        for (int b = 0; b < BATCH; b++) y[b] = r.nextInt(4);
        be.write(net.labels, y);
        return new Setup(be, net, null);
    }

    /** One training step so weights, Adam state and activations are all non-trivial. */
    static void step(Network net) {
        net.forward(BATCH);
        net.loss(BATCH, true);
        net.backward(BATCH, new PhaseTimer(net.be, false));
        net.optimizerStep(1e-2f, 1);
        net.forward(BATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void magnitudePruneHebbianRegrow(String which) {
        RunConfig c = RunConfig.defaults().with(Map.of("prune", "magnitude", "regrow", "hebbian",
                "update-every", 1, "prune-fraction", 0.2));
        Random r = new Random(3);
        try (Backend be = which.equals("reference") ? new ReferenceBackend() : new CpuBackend(2)) {
            Network net = setup(be, c, r).net();
            step(net);
            int depth = net.depth();
            List<boolean[]> before = new ArrayList<>();
            List<float[]> wBefore = new ArrayList<>();
            List<float[]> scores = new ArrayList<>();
            for (int l = 0; l < depth; l++) {
                Layer L = net.layers[l];
                before.add(L.mask.active.clone());
                wBefore.add(L.denseWeights(be));
                scores.add(cosine(be.read(net.act[l + 1]), be.read(net.act[l]), L.out, L.in));
            }
            try (DynamicSparseTraining dst = new DynamicSparseTraining(c, net, 100)) {
                List<DstStats> stats = dst.afterStep(1, BATCH, new PhaseTimer(be, false));
                assertEquals(2, stats.size(), "one row per sparse hidden layer");
                for (int l = 0; l < 2; l++) {
                    Layer L = net.layers[l];
                    boolean[] a0 = before.get(l);
                    float[] w0 = wBefore.get(l);
                    long n0 = count(a0);
                    int k = (int) Math.round(0.2 * n0);
                    Integer[] active = indices(a0, true);
                    Arrays.sort(active, Comparator.<Integer>comparingDouble(e -> Math.abs(w0[e])).thenComparingInt(e -> e));
                    boolean[] pruned = new boolean[a0.length];
                    boolean[] after = a0.clone();
                    for (int j = 0; j < k; j++) { pruned[active[j]] = true; after[active[j]] = false; }
                    float[] s = scores.get(l);
                    Integer[] inactive = indices(after, false);
                    Arrays.sort(inactive, Comparator.<Integer>comparingDouble(e -> -s[e]).thenComparingInt(e -> e));
                    boolean[] grown = new boolean[a0.length];
                    for (int j = 0; j < k; j++) { grown[inactive[j]] = true; after[inactive[j]] = true; }

                    assertArrayEquals(after, L.mask.active, "mask after update, layer " + l);
                    assertEquals(n0, L.mask.activeCount(), "edge count unchanged");
                    assertEquals(k, stats.get(l).pruned());
                    assertEquals(k, stats.get(l).regrown());
                    float[] w1 = L.denseWeights(be);
                    float[][] st = L.denseState(be);
                    for (int e = 0; e < a0.length; e++) {
                        if (grown[e] || !after[e]) {
                            assertEquals(0f, w1[e], "new or pruned weight is zero");
                            for (float[] sl : st) assertEquals(0f, sl[e], "optimizer state reset");
                        } else {
                            assertEquals(w0[e], w1[e], "kept weight unchanged");
                        }
                    }
                }
                assertTrue(net.layers[2].mask.isDense(), "the dense head is not rewired");
            }
            net.close();
        }
    }

    @Test
    void threeAndRandomAndGradientKeepEdgeCounts() {
        for (String prune : List.of("three", "random", "hebbian")) {
            for (String regrow : List.of("random", "gradient", "hebbian")) {
                RunConfig c = RunConfig.defaults().with(Map.of("prune", prune, "regrow", regrow,
                        "update-every", 1, "prune-fraction", 0.3));
                try (Backend be = new ReferenceBackend()) {
                    Network net = setup(be, c, new Random(9)).net();
                    step(net);
                    long[] n0 = new long[2];
                    for (int l = 0; l < 2; l++) n0[l] = net.layers[l].mask.activeCount();
                    try (DynamicSparseTraining dst = new DynamicSparseTraining(c, net, 100)) {
                        List<DstStats> s = dst.afterStep(1, BATCH, new PhaseTimer(be, false));
                        for (int l = 0; l < 2; l++) {
                            assertEquals(n0[l], net.layers[l].mask.activeCount(), prune + "/" + regrow);
                            assertEquals(Math.round(0.3 * n0[l]), s.get(l).pruned(), prune + "/" + regrow);
                            assertEquals(s.get(l).pruned(), s.get(l).regrown());
                        }
                    }
                    net.close();
                }
            }
        }
    }

    @Test
    void noUpdateBetweenUpdateSteps() {
        RunConfig c = RunConfig.defaults().with(Map.of("update-every", 5));
        try (Backend be = new ReferenceBackend()) {
            Network net = setup(be, c, new Random(1)).net();
            step(net);
            boolean[] a = net.layers[0].mask.active.clone();
            try (DynamicSparseTraining dst = new DynamicSparseTraining(c, net, 100)) {
                for (long s = 1; s <= 4; s++) assertTrue(dst.afterStep(s, BATCH, new PhaseTimer(be, false)).isEmpty());
                assertArrayEquals(a, net.layers[0].mask.active);
                assertEquals(2, dst.afterStep(5, BATCH, new PhaseTimer(be, false)).size());
            }
            net.close();
        }
    }

    @Test
    void cosineScheduleDecaysToZero() {
        RunConfig c = RunConfig.defaults().with(Map.of("prune-schedule", "cosine", "prune-fraction", 0.1));
        try (Backend be = new ReferenceBackend()) {
            Network net = setup(be, c, new Random(1)).net();
            try (DynamicSparseTraining dst = new DynamicSparseTraining(c, net, 1000)) {
                assertEquals(0.1, dst.fractionAt(0), 1e-12);
                assertEquals(0.05, dst.fractionAt(500), 1e-12);
                assertEquals(0.0, dst.fractionAt(1000), 1e-12);
            }
            net.close();
        }
    }

    @Test
    void topKBreaksTiesByIndexAndHandlesNegatives() {
        float[] s = {0.5f, -1f, 0.5f, 2f, -3f, 0f};
        int[] c = {0, 1, 2, 3, 4, 5};
        assertArrayEquals(new int[]{3, 0, 2}, TopK.select(s, c, 6, 3, true));
        assertArrayEquals(new int[]{4, 1, 5}, TopK.select(s, c, 6, 3, false));
    }

    static float[] cosine(float[] y, float[] x, int out, int in) {
        float[] s = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0, ny = 0, nx = 0;
                for (int b = 0; b < BATCH; b++) {
                    double yv = y[o * BATCH + b], xv = x[i * BATCH + b];
                    d += yv * xv; ny += yv * yv; nx += xv * xv;
                }
                s[o * in + i] = (float) (d / (Math.sqrt(ny) * Math.sqrt(nx) + 1e-8));
            }
        }
        return s;
    }

    static long count(boolean[] a) { long c = 0; for (boolean b : a) if (b) c++; return c; }

    static Integer[] indices(boolean[] a, boolean value) {
        List<Integer> l = new ArrayList<>();
        for (int e = 0; e < a.length; e++) if (a[e] == value) l.add(e);
        return l.toArray(new Integer[0]);
    }
}
